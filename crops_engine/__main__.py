"""`python -m crops_engine <command>`: the engine's command line and worker entry point."""

import sys

from .cli import main

sys.exit(main())
