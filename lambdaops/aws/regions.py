"""Which region names exist: the partition's Lambda regions as botocore's endpoint data lists them.

A misspelt or invented region (``mars-north-1``) is refused before any call: sent to AWS it fails
only at connect time, with a DNS error or an HTML page from whatever answers the made-up host name.
The check holds with an endpoint URL of our own too (the demo, an emulator): they serve real region
names, and moto answered ``mars-north-1`` with an HTML 500 page.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=4)
def partition_regions(partition: str = "aws") -> frozenset[str]:
    """Lambda's regions in ``partition`` (botocore's endpoints.json; opt-in regions included)."""
    import botocore.session

    return frozenset(botocore.session.get_session().get_available_regions("lambda", partition_name=partition))


def partition_of(region: str) -> str:
    return "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"


def unknown_regions(regions: list[str], partition: str = "aws") -> list[str]:
    """The names in ``regions`` that are no region of the partition."""
    known = partition_regions(partition)
    if not known:  # botocore without endpoint data: nothing to check against
        return []
    return [r for r in regions if r not in known]
