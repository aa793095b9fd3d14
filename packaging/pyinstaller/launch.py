"""The bundle's entry point: the same command line as the installed ``seeing-assistant``."""

import sys

from seeing_assistant.cli import main

if __name__ == "__main__":
    sys.exit(main())
