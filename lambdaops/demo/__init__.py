"""The embedded demo account: moto's server in-process, seeded with a deterministic synthetic fleet.

The product code never imports this package except through :mod:`lambdaops.demo.launch`, from its
entry points (``demo serve``, the CLI's ``--demo``, the TUI's launcher); it reaches the account only
through its endpoint URL, exactly as it reaches AWS.
"""
