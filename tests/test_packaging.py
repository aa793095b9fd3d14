"""Installing like a desktop app: the wheel and the sdist carry everything, the wheel runs outside the source tree,
and the launcher, its metadata and the icon install for a user and validate with the freedesktop tools."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

from seeing_assistant.core import launcher, settings

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ["seeing_assistant/resources/sounds/start.wav", "seeing_assistant/resources/icons/seeing-assistant.svg",
           f"seeing_assistant/resources/linux/{launcher.DESKTOP_FILE}",
           f"seeing_assistant/resources/linux/{launcher.METAINFO_FILE}"]


def validators() -> None:
    for tool in ("desktop-file-validate", "appstreamcli"):
        assert shutil.which(tool), f"{tool} is missing: run scripts/install --test"


def desktop_file_problems(path: Path) -> str:
    done = subprocess.run(["desktop-file-validate", str(path)], capture_output=True, text=True, timeout=60)
    return (done.stdout + done.stderr).strip() + ("" if done.returncode == 0 else f" (exit {done.returncode})")


def appstream_problems(path: Path) -> list[str]:
    done = subprocess.run(["appstreamcli", "validate", "--no-net", "--explain", str(path)], capture_output=True,
                          text=True, timeout=60)
    # Warnings (W) and errors (E) fail; pedantic remarks (P) and information (I) do not.
    return [line for line in (done.stdout + done.stderr).splitlines() if line.startswith(("W:", "E:"))] + (
        [] if done.returncode == 0 else [f"exit {done.returncode}"])


def test_the_shipped_launcher_and_metadata_validate_without_a_warning() -> None:
    validators()
    assert desktop_file_problems(launcher.resource("linux", launcher.DESKTOP_FILE)) == ""
    assert appstream_problems(launcher.resource("linux", launcher.METAINFO_FILE)) == []


def test_install_desktop_puts_the_app_in_the_menu_and_uninstall_takes_it_out(tmp_path: Path,
                                                                             env: dict[str, str]) -> None:
    from PIL import Image

    from tests.support.cli import run_cli

    validators()
    home = tmp_path / "data"
    done = run_cli(["install-desktop"], {**env, "XDG_DATA_HOME": str(home)})
    assert done.returncode == 0, done.stderr
    paths = launcher.installed_paths(home)
    assert all(path.is_file() for path in paths.values()), [path for path in paths.values() if not path.exists()]
    entry = paths["launcher"].read_text()
    assert desktop_file_problems(paths["launcher"]) == ""
    assert appstream_problems(paths["metainfo"]) == []
    command = str(Path(sys.executable).parent / "seeing-assistant")
    assert f"Exec={command} app\n" in entry
    assert f"Exec={command} trigger describe-screen --start\n" in entry
    assert f"Exec={command} trigger read-text --start\n" in entry
    for keyword in ("screen reader", "describe", "blind", "OCR"):
        assert keyword in entry.split("Keywords=", 1)[1].splitlines()[0]
    for size in launcher.ICON_SIZES:
        with Image.open(paths[f"icon {size}"]) as icon:
            assert icon.size == (size, size) and icon.mode == "RGBA"
    removed = run_cli(["install-desktop", "--uninstall"], {**env, "XDG_DATA_HOME": str(home)})
    assert removed.returncode == 0, removed.stderr
    assert not any(path.exists() for path in paths.values())


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="the XDG autostart entry is for Linux desktops")
def test_start_at_login_uses_the_same_launcher(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    validators()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    old = tmp_path / "config" / "autostart" / "seeing-assistant.desktop"  # the first version's entry
    old.parent.mkdir(parents=True)
    old.write_text("[Desktop Entry]\n")
    settings.set_start_at_login(True, "/opt/seeing assistant/bin/seeing-assistant")
    path = settings.autostart_path()
    assert path.name == launcher.DESKTOP_FILE and not old.exists()
    text = path.read_text()
    assert 'Exec="/opt/seeing assistant/bin/seeing-assistant" app\n' in text  # the desktop spec's quoting
    assert text.endswith("X-GNOME-Autostart-enabled=true\n") and "[Desktop Action" not in text
    assert desktop_file_problems(path) == ""


def test_the_wheel_installs_and_answers_outside_the_source_tree(tmp_path: Path, tiny_model: Path, photo: Path,
                                                                env: dict[str, str]) -> None:
    # Built from the tracked files only, as a clean clone would be, without touching the working tree.
    source = tmp_path / "source"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path / "dist"
    out.mkdir()
    build = ("import sys, pathlib; from setuptools import build_meta as b; out = sys.argv[1]; "  # setup.py takes argv
             "names = [b.build_wheel(out), b.build_sdist(out)]; "
             "pathlib.Path(out, 'built.txt').write_text(' '.join(names))")
    built = subprocess.run([sys.executable, "-c", build, str(out)], cwd=source, capture_output=True, text=True,
                           timeout=300)
    assert built.returncode == 0, built.stderr[-2000:]
    wheel, sdist = (out / name for name in (out / "built.txt").read_text().split())
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert all(name in names for name in SHIPPED), [name for name in SHIPPED if name not in names]
    with tarfile.open(sdist) as archive:
        members = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert all(f"src/{name}" in members for name in SHIPPED)
    assert "README.md" in members and "pyproject.toml" in members

    # A fresh virtual environment with the wheel installed (not editable); the heavy dependencies (torch, Qt) come
    # from the test environment's site-packages, added as a path after the venv's own.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--no-deps", "--no-index",
                                "--disable-pip-version-check", "-q", str(wheel)], capture_output=True, text=True,
                               timeout=300)
    assert installed.returncode == 0, installed.stderr[-2000:]
    command = venv / "bin" / "seeing-assistant"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run_env = {**env, "PYTHONPATH": env["PYTHONPATH"]}  # the network guard only, never the source tree
    which = "import seeing_assistant; print(seeing_assistant.__file__)"
    where = subprocess.run([str(venv / "bin" / "python"), "-c", which], cwd=elsewhere, capture_output=True,
                           text=True, env=run_env, timeout=60)
    assert where.stdout.strip().startswith(str(site)), where.stdout + where.stderr
    doctor = subprocess.run([str(command), "doctor", "--model", str(tiny_model)], cwd=elsewhere, capture_output=True,
                            text=True, env=run_env, timeout=300)
    assert doctor.returncode == 0 and "on disk: yes" in doctor.stdout, doctor.stderr[-2000:]
    described = subprocess.run([str(command), "describe", str(photo), "--model", str(tiny_model), "--max-new-tokens",
                                "6", "--audio-out", str(tmp_path / "answer.wav"), "--earcons"], cwd=elsewhere,
                               capture_output=True, text=True, env=run_env, timeout=300)
    assert described.returncode == 0, described.stderr[-2000:]
    assert described.stdout.strip() and (tmp_path / "answer.wav").stat().st_size > 10_000
