"""The Textual TUI. Only this package imports textual, so scripted commands start fast."""
