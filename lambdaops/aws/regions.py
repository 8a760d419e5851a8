"""Region names AWS knows, from botocore's bundled endpoint data (no network call).

Used to refuse ``--region xx-fake-9`` before any work: a misspelt region otherwise surfaces as a
DNS failure per call (or, against the demo, as its server's HTML error page).
"""

from __future__ import annotations

import re
from functools import lru_cache

import boto3
import botocore.loaders


@lru_cache(maxsize=1)
def regions_by_partition() -> dict[str, frozenset[str]]:
    """``{"aws": {...}, "aws-cn": {...}, ...}``: the Lambda regions of every partition botocore knows
    (``Session.get_available_partitions`` / ``Session.get_available_regions``)."""
    session = boto3.session.Session()
    return {p: frozenset(session.get_available_regions("lambda", partition_name=p))
            for p in session.get_available_partitions()}


@lru_cache(maxsize=1)
def _region_patterns() -> list[tuple[str, re.Pattern]]:
    """Each partition's ``regionRegex`` from botocore's endpoints.json: a region launched after this
    botocore was released is not in the lists above but still matches its partition's pattern (and
    botocore builds its endpoint from that pattern), so it must not be refused. The ``aws`` pattern
    is tried last: it is the broadest."""
    data = botocore.loaders.create_loader().load_data("endpoints")
    pats = [(p["partition"], re.compile(p["regionRegex"])) for p in data.get("partitions", []) if p.get("regionRegex")]
    return sorted(pats, key=lambda pp: pp[0] == "aws")


def partition_of(region: str) -> str | None:
    """The partition a region belongs to, or None when it is no region name botocore would accept."""
    for partition, regions in regions_by_partition().items():
        if region in regions:
            return partition
    for partition, rx in _region_patterns():
        if rx.match(region):
            return partition
    return None


def known_regions(partition: str = "aws") -> list[str]:
    return sorted(regions_by_partition().get(partition, ()))


def regions_with_function(ctx, name: str, regions: list[str]) -> list[str]:
    """The regions among ``regions`` where a Lambda function ``name`` exists: one
    ``GetFunctionConfiguration`` per region (cheaper than listing every function), in parallel.
    A region that fails for another reason (no access, throttled) raises: "not found" must not hide
    "could not look"."""
    from concurrent.futures import ThreadPoolExecutor

    from lambdaops.errors import NotFoundError

    def probe(region: str) -> bool:
        try:
            ctx.call("lambda", region, "get_function_configuration", FunctionName=name)
        except NotFoundError:
            return False
        return True

    with ThreadPoolExecutor(max_workers=min(8, max(1, len(regions)))) as pool:
        found = list(pool.map(probe, regions))
    return [r for r, ok in zip(regions, found) if ok]


def unknown_regions(regions: list[str], partition: str | None = "aws") -> list[str]:
    """The names in ``regions`` that are no region of ``partition`` (None: of any partition botocore
    knows): the TUI's region switcher refuses them as the CLI does."""
    return [r for r in regions if partition_of(r) is None or (partition is not None and partition_of(r) != partition)]
