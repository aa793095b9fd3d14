"""A real reverse proxy for tests: Debian's nginx in front of a model server, with TLS, an API key and a body limit.

Many users reach their model server (vLLM, Ollama, llama.cpp, ``transformers serve``) through a reverse proxy that
adds what the server lacks: HTTPS with a certificate from a private certificate authority, an API key, a limit on the
size of a request. ``ReverseProxy`` starts nginx as a child process of the tests, in front of a model server on
127.0.0.1, so that the app's server client can be tested against what such a proxy really does:

- ``https``: TLS with a certificate for ``localhost`` and 127.0.0.1 (and ::1) signed by a private CA (``ca_file``);
  without that CA the client's certificate check fails, as it does for a user who did not choose the CA file;
- ``mismatched``: TLS with a certificate from the same CA for another name (``wrong.example``): a hostname mismatch;
- ``http``: plain http; ``https-on-http-port`` and ``http-on-https-port`` are the two wrong-scheme addresses.

Each listener proxies to ``http://127.0.0.1:{upstream_port}`` unbuffered (``proxy_buffering off``), so that
server-sent events stream through as they come. With ``api_key``, a request to ``/v1...`` without
``Authorization: Bearer {api_key}`` gets 401 with an OpenAI-style JSON body, and other paths (``/health``) stay open,
as with vLLM's ``--api-key``. With ``max_body_bytes``, a larger request gets nginx's own 413 page (HTML, as a real
nginx sends); without it there is no limit (nginx's default would be 1 MiB).

nginx runs unprivileged-safe: ``daemon off``, one process (``master_process off``, so no switch to another user
that could not read the folder), and every file it writes (pid, temporary files, logs) under ``folder``.
The certificates come from the ``cryptography`` package when it is installed, else from the ``openssl`` command.
"""

from __future__ import annotations

import contextlib
import datetime
import http.client
import ipaddress
import json
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal

from tests.support.audio_lab import _die_with_parent

ProxyAddress = Literal["https", "mismatched", "http", "https-on-http-port", "http-on-https-port"]

GOOD_NAME = "localhost"
WRONG_NAME = "wrong.example"
INSTALL_HINT = "nginx is not installed: run scripts/install --test"
# nginx answers this path itself, with a token of its instance: ready means this nginx serves the port, not merely
# that something accepts connections there (nginx listens on the first ports while it retries a taken one).
READY_PATH = "/.reverse-proxy-ready"

# What OpenAI answers a request without a valid key (vLLM's own --api-key answers {"error": "Unauthorized"}).
UNAUTHORISED_BODY = {"error": {
    "message": "Incorrect API key provided. You need to provide your API key in an Authorization header using "
               "Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
    "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}}

# Characters an API key may hold here: written into nginx.conf inside quotes, so no quote, backslash, $ or space.
_SAFE_KEY = re.compile(r"[A-Za-z0-9._~+/=:-]+")


@dataclass(frozen=True)
class Certificates:
    """The PEM files under a folder: the private CA, and two server certificates it signed."""

    ca_file: Path
    good_cert: Path  # for localhost, 127.0.0.1 and ::1
    good_key: Path
    wrong_cert: Path  # for wrong.example only
    wrong_key: Path


def has_cryptography() -> bool:
    """Whether the ``cryptography`` package can be imported here."""
    try:
        import cryptography.x509  # noqa: F401
    except ImportError:
        return False
    return True


def make_certificates(folder: Path, tool: Literal["auto", "cryptography", "openssl"] = "auto") -> Certificates:
    """A private CA and two server certificates under ``folder`` (``tool``: which makes them; auto prefers Python)."""
    folder.mkdir(parents=True, exist_ok=True)
    certificates = Certificates(ca_file=folder / "ca.pem", good_cert=folder / f"{GOOD_NAME}.pem",
                                good_key=folder / f"{GOOD_NAME}.key", wrong_cert=folder / f"{WRONG_NAME}.pem",
                                wrong_key=folder / f"{WRONG_NAME}.key")
    if tool == "cryptography" or (tool == "auto" and has_cryptography()):
        _make_with_cryptography(certificates)
    else:
        _make_with_openssl(certificates, folder)
    return certificates


def _make_with_cryptography(out: Certificates) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
        path.chmod(0o600)

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Seeing Assistant test CA")])
    ca_cert = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    out.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    write_key(ca_key, out.ca_file.with_suffix(".key"))

    def leaf(names: list[x509.GeneralName], common_name: str, cert_path: Path, key_path: Path) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False),
                           critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        write_key(key, key_path)

    leaf([x509.DNSName(GOOD_NAME), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
          x509.IPAddress(ipaddress.ip_address("::1"))], GOOD_NAME, out.good_cert, out.good_key)
    leaf([x509.DNSName(WRONG_NAME)], WRONG_NAME, out.wrong_cert, out.wrong_key)


_OPENSSL_CONFIG = """\
[req]
distinguished_name = name
prompt = no
[name]
CN = Seeing Assistant test CA
[ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, digitalSignature, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[good]
subjectAltName = DNS:{good}, IP:127.0.0.1, IP:::1
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[wrong]
subjectAltName = DNS:{wrong}
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def _make_with_openssl(out: Certificates, folder: Path) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("neither the cryptography package nor the openssl command is installed")
    config = folder / "openssl.cnf"
    config.write_text(_OPENSSL_CONFIG.format(good=GOOD_NAME, wrong=WRONG_NAME), encoding="utf-8")
    ec_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]

    def run(*args: str) -> None:
        done = subprocess.run([openssl, *args], capture_output=True, text=True, timeout=30, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"openssl {args[0]} failed: {done.stderr.strip()[-800:]}")

    ca_key = out.ca_file.with_suffix(".key")
    run("req", "-x509", *ec_key, "-config", str(config), "-extensions", "ca", "-days", "2",
        "-keyout", str(ca_key), "-out", str(out.ca_file))
    for section, name, cert, key in (("good", GOOD_NAME, out.good_cert, out.good_key),
                                     ("wrong", WRONG_NAME, out.wrong_cert, out.wrong_key)):
        request = folder / f"{name}.csr"
        run("req", "-new", *ec_key, "-config", str(config), "-subj", f"/CN={name}", "-keyout", str(key),
            "-out", str(request))
        run("x509", "-req", "-in", str(request), "-CA", str(out.ca_file), "-CAkey", str(ca_key), "-set_serial",
            str(int.from_bytes(name.encode()[:8], "big")), "-days", "2", "-sha256", "-extfile", str(config),
            "-extensions", section, "-out", str(cert))
        request.unlink()


def _ipv6_loopback() -> bool:
    """Whether ::1 can be listened on here (some containers have no IPv6)."""
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


def _free_ports(count: int, ipv6: bool) -> list[int]:
    """``count`` different TCP ports free now on 127.0.0.1 (and on ::1 when ``ipv6``)."""
    ports: list[int] = []
    with contextlib.ExitStack() as held:  # hold each until all are chosen, so that they differ
        while len(ports) < count:
            probe = held.enter_context(socket.socket())
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
            if ipv6:
                try:
                    twin = held.enter_context(socket.socket(socket.AF_INET6))
                    twin.bind(("::1", port))
                except OSError:
                    continue  # taken on ::1: keep the IPv4 socket held so the next try gets another port
            ports.append(port)
    return ports


class ReverseProxy:
    """nginx on three free ports in front of ``http://127.0.0.1:{upstream_port}``; see the module's docstring."""

    def __init__(self, folder: Path, upstream_port: int, *, api_key: str | None = None,
                 max_body_bytes: int | None = None, read_timeout_s: float = 300,
                 ready_timeout_s: float = 10) -> None:
        if api_key is not None and not _SAFE_KEY.fullmatch(api_key):
            raise ValueError(f"the API key may hold only the characters {_SAFE_KEY.pattern}")
        if max_body_bytes is not None and max_body_bytes < 1:
            raise ValueError("max_body_bytes must be at least 1 (None means no limit)")
        self.folder = folder
        self.upstream_port = upstream_port
        self.api_key = api_key
        self.max_body_bytes = max_body_bytes
        self.read_timeout_s = read_timeout_s
        self.ready_timeout_s = ready_timeout_s
        self.ipv6 = _ipv6_loopback()
        self.https_port, self.mismatched_port, self.http_port = _free_ports(3, self.ipv6)
        self.config = folder / "nginx.conf"
        self.error_log = folder / "error.log"
        self.access_log = folder / "access.log"
        self.output = folder / "nginx.out"
        self.certificates: Certificates | None = None
        self.token = secrets.token_hex(8)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def ca_file(self) -> Path:
        """The private CA's certificate (PEM): the file a user would choose as the certificate authority."""
        return self.folder / "ca.pem"

    def url(self, kind: ProxyAddress = "https", host: str = GOOD_NAME) -> str:
        """The API's base address through the proxy (``https://localhost:P/v1`` and so on)."""
        scheme, port = {
            "https": ("https", self.https_port),
            "mismatched": ("https", self.mismatched_port),
            "http": ("http", self.http_port),
            "https-on-http-port": ("https", self.http_port),
            "http-on-https-port": ("http", self.https_port),
        }[kind]
        bracketed = f"[{host}]" if ":" in host else host
        return f"{scheme}://{bracketed}:{port}/v1"

    def __enter__(self) -> ReverseProxy:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    def write_config(self) -> Path:
        """Write the certificates and nginx.conf under the folder; the config's path."""
        nginx_temp = self.folder / "temp"
        for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (nginx_temp / name).mkdir(parents=True, exist_ok=True)
        self.certificates = make_certificates(self.folder)
        self.config.write_text(self._config_text(self.certificates, nginx_temp), encoding="utf-8")
        return self.config

    def _config_text(self, certificates: Certificates, nginx_temp: Path) -> str:
        upstream = f"http://127.0.0.1:{self.upstream_port}"
        if self.api_key is None:
            guard = ""
        else:
            body = json.dumps(UNAUTHORISED_BODY).replace("'", "\\'")
            guard = (f'if ($http_authorization != "Bearer {self.api_key}") {{\n'
                     f"    return 401 '{body}';\n"
                     "}\n")
        locations = (
            f'location = {READY_PATH} {{\n    return 200 "{self.token}";\n}}\n'
            "location /v1 {\n" + textwrap.indent(guard, "    ") + f"    proxy_pass {upstream};\n}}\n"
            f"location / {{\n    proxy_pass {upstream};\n}}\n"
        )

        def server(port: int, tls: tuple[Path, Path] | None) -> str:
            suffix = " ssl" if tls else ""
            lines = [f"listen 127.0.0.1:{port}{suffix};"]
            if self.ipv6:
                lines.append(f"listen [::1]:{port}{suffix};")
            if tls:
                lines += [f"ssl_certificate {tls[0]};", f"ssl_certificate_key {tls[1]};",
                          "ssl_protocols TLSv1.2 TLSv1.3;"]
            return "server {\n" + textwrap.indent("\n".join(lines) + "\n" + locations, "    ") + "}\n"

        servers = (server(self.https_port, (certificates.good_cert, certificates.good_key))
                   + server(self.mismatched_port, (certificates.wrong_cert, certificates.wrong_key))
                   + server(self.http_port, None))
        limit = "0" if self.max_body_bytes is None else str(self.max_body_bytes)  # 0: no limit
        http = textwrap.dedent(f"""\
            access_log {self.access_log};
            client_body_temp_path {nginx_temp / "body"};
            proxy_temp_path {nginx_temp / "proxy"};
            fastcgi_temp_path {nginx_temp / "fastcgi"};
            uwsgi_temp_path {nginx_temp / "uwsgi"};
            scgi_temp_path {nginx_temp / "scgi"};
            default_type application/json;
            client_max_body_size {limit};
            proxy_buffering off;
            proxy_cache off;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_connect_timeout 5s;
            proxy_read_timeout {self.read_timeout_s:g}s;
            proxy_send_timeout {self.read_timeout_s:g}s;
            """) + servers
        return textwrap.dedent(f"""\
            # Written by tests/support/reverse_proxy.py; run with: nginx -p {self.folder}/ -c {self.config}
            daemon off;
            master_process off;
            worker_processes 1;
            pid {self.folder / "nginx.pid"};
            error_log {self.error_log} info;
            events {{
                worker_connections 128;
            }}
            http {{
            """) + textwrap.indent(http, "    ") + "}\n"

    def start(self) -> None:
        """Write the files, start nginx and wait until all three ports accept connections."""
        nginx = shutil.which("nginx")
        if nginx is None:
            raise RuntimeError(INSTALL_HINT)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.write_config()
        with self.output.open("wb") as output:
            self.process = subprocess.Popen(
                [nginx, "-p", f"{self.folder}/", "-c", str(self.config), "-e", str(self.error_log)],
                stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + self.ready_timeout_s
        waiting = [(self.https_port, True), (self.mismatched_port, True), (self.http_port, False)]
        while waiting:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx ended at start (exit status {self.process.returncode}): {self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"nginx did not answer on port {waiting[0][0]} in {self.ready_timeout_s:g} s: "
                                   f"{self.log_tail()}")
            if self._answers(*waiting[0]):
                waiting.pop(0)
            else:
                time.sleep(0.05)

    def _answers(self, port: int, tls: bool) -> bool:
        """Whether this nginx answers on ``port`` (its token at READY_PATH; over TLS when ``tls``)."""
        connection: http.client.HTTPConnection
        if tls:
            context = ssl.create_default_context(cafile=self.ca_file)
            context.check_hostname = False  # the mismatched port's certificate names another host
            connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=2, context=context)
        else:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", READY_PATH)
            response = connection.getresponse()
            return response.status == 200 and response.read().decode(errors="replace") == self.token
        except (OSError, http.client.HTTPException):  # not listening yet, or not nginx: ssl.SSLError is an OSError
            return False
        finally:
            connection.close()

    def log_tail(self, characters: int = 1500) -> str:
        """The end of nginx's error log and of its own output, for a failure's message."""
        parts = []
        for path in (self.error_log, self.output):
            if path.exists():
                text = path.read_text(errors="replace").strip()
                if text:
                    parts.append(f"{path.name}: {text[-characters:]}")
        return "\n".join(parts) or "(nginx wrote nothing)"

    def stop(self) -> None:
        """Stop nginx (SIGTERM: a fast shutdown) and wait; kill it if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
