"""Run the command line with ``python -m seeing_assistant``."""

import sys

from seeing_assistant.cli import main

sys.exit(main())
