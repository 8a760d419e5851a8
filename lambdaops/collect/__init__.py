"""Collection: what lambdaops reads from AWS for the fleet, one function, or a Logs Insights query (CLI and TUI alike)."""
