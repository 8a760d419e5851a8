"""Power tuning: options, the run (shared by the CLI and the TUI), and cleanup."""
