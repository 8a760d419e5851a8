"""Screens of the lambdaops TUI, one per module."""
