"""Checks of what the user typed, made before any work: before the demo starts, before a call.

Each failure is a one-line error with the AWS CLI's exit code: 2 for the command line itself
(a malformed endpoint URL, a region name no partition has, options that contradict each other,
an output file that exists), 253 for the environment and configuration (a named config file or
profile that does not exist); see "Command line return codes in the AWS CLI"
(https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-returncodes.html).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from lambdaops.errors import ConfigError, UsageError


def check_endpoint_url(url: str | None) -> None:
    """``--endpoint-url`` must be an absolute http(s) URL with a host (botocore otherwise fails on the
    first call with ValueError, which reached the user as an internal error)."""
    if url is None:
        return
    try:
        parts = urlsplit(url)
        port = parts.port  # a non-numeric or out-of-range port raises here
    except ValueError as exc:
        raise UsageError(f"--endpoint-url {url!r} is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--endpoint-url {url!r} is not a URL: use http(s)://HOST[:PORT], "
                         "e.g. http://127.0.0.1:4566")
    del port


def check_regions(regions: list[str], source: str = "--region") -> None:
    """Every region must be one botocore knows (or that matches its partition's pattern), and all of
    them in one partition: one set of credentials never spans aws, aws-cn and aws-us-gov."""
    if not regions:
        return
    from lambdaops.aws.regions import known_regions, partition_of

    partitions: dict[str, str] = {}
    for r in regions:
        p = partition_of(r)
        if p is None:
            sample = ", ".join(known_regions()[:6])
            raise UsageError(f"{source}: {r!r} is not an AWS region (e.g. {sample}, ...)")
        partitions[r] = p
    if len(set(partitions.values())) > 1:
        listed = ", ".join(f"{r} ({p})" for r, p in partitions.items())
        raise UsageError(f"{source}: regions of different partitions cannot be used together: {listed}")


def check_globals(*, demo: bool, endpoint_url: str | None, regions: list[str]) -> None:
    """The root options, before any subcommand runs."""
    if demo and endpoint_url:
        raise UsageError("use either --demo (the embedded account) or --endpoint-url, not both")
    check_endpoint_url(endpoint_url)
    check_regions(regions)


def check_profile(profile: str | None, source: str) -> None:
    """A named profile must exist in the AWS config or credentials file (253, as botocore's
    ProfileNotFound in the AWS CLI), checked before any command output."""
    if not profile:
        return
    from lambdaops.aws.context import available_profiles

    known = available_profiles()
    if profile not in known:
        listed = f" (known: {', '.join(known)})" if known else " (no profiles are configured)"
        raise ConfigError(f"the config profile {profile!r} ({source}) could not be found{listed}")


def check_new_file(path: Path | None, flag: str) -> Path | None:
    """An output file that is never overwritten must not exist yet, and its directory must."""
    if path is None:
        return None
    p = Path(path).expanduser()
    if p.exists():
        raise UsageError(f"{flag} {p}: the file already exists (it is never overwritten: choose another name)")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"{flag} {p}: directory {parent} does not exist")
    return path


def new_file_option(flag: str):
    """A Click callback for an option naming a file to create."""

    def callback(value):
        return check_new_file(value, flag)

    return callback
