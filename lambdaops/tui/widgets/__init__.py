"""Widgets of the lambdaops TUI, one per module."""
