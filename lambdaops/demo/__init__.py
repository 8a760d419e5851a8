"""The embedded demo account: moto's server in-process, seeded with a deterministic synthetic fleet.

The product code never imports this package except from the CLI's ``--demo`` / ``demo serve`` entry
points; it reaches the account only through its endpoint URL, exactly as it reaches AWS.
"""
