"""lambdaops: terminal-first observability and operations for AWS Lambda fleets."""

__version__ = "0.1.0"
