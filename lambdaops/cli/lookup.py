"""FUNCTION arguments: a name looked up in every selected region, or an ARN (which names its region).

Found in one region: that one. In none: "not found in <regions>" (254, like the service's
ResourceNotFoundException). In several: a usage error (2) listing each candidate as an ARN-free
``--region R NAME`` pair, so the user can pick one without guessing.
"""

from __future__ import annotations

from dataclasses import dataclass

from lambdaops.errors import NotFoundError, UsageError


@dataclass(frozen=True)
class FunctionRef:
    name: str
    region: str


def split_function_arn(ref: str, *, allow_qualifier: bool = False) -> tuple[str, str | None]:
    """``name`` or ``arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`` -> (name, region or None)."""
    ref = ref.strip()
    if not ref:
        raise UsageError("FUNCTION must not be empty")
    if ref.startswith("arn:"):
        parts = ref.split(":")
        if len(parts) < 7 or parts[2] != "lambda" or parts[5] != "function" or not parts[6]:
            raise UsageError(f"{ref!r} is not a Lambda function ARN")
        if len(parts) > 7 and not allow_qualifier:
            raise UsageError("pass the function ARN without a version or alias")
        return parts[6], parts[3]
    if ":" in ref and not allow_qualifier:
        raise UsageError("pass the function name without a version or alias")
    return ref, None


def find_function(state, ref: str, *, allow_qualifier: bool = False) -> FunctionRef:
    """Resolve FUNCTION against the selected regions (see the module docstring)."""
    from lambdaops.aws.regions import regions_with_function

    name, arn_region = split_function_arn(ref, allow_qualifier=allow_qualifier)
    if arn_region:
        from lambdaops.cli.validate import check_regions

        check_regions([arn_region], "FUNCTION's ARN")
        return FunctionRef(name, arn_region)
    aws = state.aws()
    regions = aws.require_regions()
    found = regions_with_function(aws, name, list(regions))
    if not found:
        where = ", ".join(regions)
        raise NotFoundError(f"Function not found: {name!r} in {where}",
                            hint=None if len(regions) > 1 else "pass --region, or the function's ARN")
    if len(found) > 1:
        listed = "; ".join(f"--region {r} {name}" for r in found)
        raise UsageError(f"function {name!r} exists in {len(found)} regions: {listed} (pick one with --region, "
                         "or pass the function's ARN)")
    return FunctionRef(name, found[0])
