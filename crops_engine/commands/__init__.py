"""One module per engine sub-command: argument parsing and the call into the engine."""
