"""The typed models moved to :mod:`lambdaops.models` (plain dataclasses every layer shares, screens
included, which never import ``aws/``). This name stays while branches written against it are
merged; new code imports ``lambdaops.models``."""

from lambdaops.models import EventSource, FunctionInfo, Inventory, RegionError, arn_name, source_kind

__all__ = ["EventSource", "FunctionInfo", "Inventory", "RegionError", "arn_name", "source_kind"]
