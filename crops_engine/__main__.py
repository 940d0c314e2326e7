"""`python -m crops_engine <command>`: the engine's command line and worker entry point.

Once the outcome is reported the process ends at once: a late SIGTERM / SIGINT is ignored (Python would
restore their default action while it tears down, and a finished run was ended with exit 143), the
engine's own exit handlers run (scratch folders, the torch.distributed process group), then `os._exit`
with the streams flushed, so nothing of the interpreter's teardown of torch and GDAL (a worker thread
torn down inside a C++ call: `terminate called without an active exception`, exit 134) can fail a run
that already reported success.
"""

import atexit
import contextlib
import os
import signal
import sys

from .cli import main

code = main()
for signum in (signal.SIGTERM, signal.SIGINT):
    signal.signal(signum, signal.SIG_IGN)
with contextlib.suppress(Exception):
    atexit._run_exitfuncs()
for stream in (sys.stdout, sys.stderr):
    with contextlib.suppress(OSError, ValueError):
        stream.flush()
os._exit(code)
