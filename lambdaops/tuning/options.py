"""What a tuning run is asked to do: memory sizes, invocations, payloads and their weights.

Parsing lives here (not in the CLI) so the TUI builds the same options from its own form.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from lambdaops.analysis.tuning_stats import STRATEGIES
from lambdaops.errors import UsageError

DEFAULT_MEMORY = (128, 256, 512, 1024, 1536, 3008)  # the reference tuner's usual list
ALL_MEMORY = tuple(range(128, 3009, 64))  # --memory all
MIN_MEMORY, MAX_MEMORY = 128, 10240
MIN_NUM = 5  # fewer leaves nothing after trimming


@dataclass(frozen=True)
class WeightedPayload:
    payload: bytes
    weight: float = 1.0


@dataclass
class TuneOptions:
    memory_sizes: list[int] = field(default_factory=lambda: list(DEFAULT_MEMORY))
    num: int = 10
    payloads: list[WeightedPayload] = field(default_factory=lambda: [WeightedPayload(b"{}")])
    parallel: bool = False
    cold_only: bool = False
    strategy: str = "cost"
    weight: float = 0.5
    discard: float = 0.2
    arch_compare: bool = False
    strict: bool = False
    max_parallel: int = 32  # concurrent invokes per size with --parallel (the reference uses num)

    def validate(self) -> "TuneOptions":
        if self.num < MIN_NUM:
            raise UsageError(f"--num must be at least {MIN_NUM} (got {self.num})")
        if self.strategy not in STRATEGIES:
            raise UsageError(f"--strategy must be one of {', '.join(STRATEGIES)} (got {self.strategy!r})")
        if not 0.0 <= self.weight <= 1.0:
            raise UsageError(f"--weight must be between 0 and 1 (got {self.weight})")
        if not 0.0 <= self.discard < 0.5:
            raise UsageError(f"--discard must be at least 0 and below 0.5 (got {self.discard})")
        if not self.memory_sizes:
            raise UsageError("--memory needs at least one size")
        if len(self.payloads) > self.num:
            raise UsageError(f"--num {self.num} is fewer than the {len(self.payloads)} payloads: "
                             "each needs an invocation")
        return self


def parse_memory(text: str | None) -> list[int]:
    """``128,256,512`` (MB), or ``all`` for 128..3008 in steps of 64."""
    if text is None or not text.strip():
        return list(DEFAULT_MEMORY)
    if text.strip().lower() == "all":
        return list(ALL_MEMORY)
    sizes = []
    for part in text.split(","):
        part = part.strip().lower().removesuffix("mb").strip()
        if not part:
            continue
        try:
            mb = int(part)
        except ValueError:
            raise UsageError(f"--memory: {part!r} is not a number of MB") from None
        if not MIN_MEMORY <= mb <= MAX_MEMORY:
            raise UsageError(f"--memory: {mb} MB is outside Lambda's {MIN_MEMORY}..{MAX_MEMORY} MB")
        sizes.append(mb)
    if not sizes:
        raise UsageError("--memory needs at least one size")
    return sorted(set(sizes))


def _read_json(path: str, option: str):
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{option}: cannot read {path}: {exc.strerror or exc}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{option}: {path} is not valid JSON ({exc})") from None


def load_payload(path: str) -> list[WeightedPayload]:
    """``--payload FILE``: the file's JSON is the event."""
    return [WeightedPayload(json.dumps(_read_json(path, "--payload")).encode())]


def load_payloads(path: str) -> list[WeightedPayload]:
    """``--payloads FILE``: ``[{"payload": {...}, "weight": 3}, ...]`` (weight optional, default 1),
    as the reference tuner takes them."""
    doc = _read_json(path, "--payloads")
    if not isinstance(doc, list) or not doc:
        raise UsageError(f"--payloads: {path} must hold a non-empty JSON list of {{\"payload\": ..., \"weight\": n}}")
    out = []
    for i, item in enumerate(doc):
        if not isinstance(item, dict) or "payload" not in item:
            raise UsageError(f"--payloads: item {i} has no \"payload\" key")
        weight = item.get("weight", 1)
        if not isinstance(weight, (int, float)) or isinstance(weight, bool) or weight <= 0:
            raise UsageError(f"--payloads: item {i} has weight {weight!r}; weights must be positive numbers")
        out.append(WeightedPayload(json.dumps(item["payload"]).encode(), float(weight)))
    return out


def payload_plan(payloads: list[WeightedPayload], num: int) -> list[bytes]:
    """``num`` payloads in proportion to their weights (each at least once; largest remainders get
    the rest), interleaved so the cold start and the trimmed ends are not all one payload's."""
    if not payloads:
        return [b"{}"] * num
    if num < len(payloads):
        raise UsageError(f"--num {num} is fewer than the {len(payloads)} payloads")
    total = sum(p.weight for p in payloads)
    spare = num - len(payloads)
    shares = [spare * p.weight / total for p in payloads]
    counts = [1 + math.floor(s) for s in shares]
    order = sorted(range(len(payloads)), key=lambda i: (-(shares[i] - math.floor(shares[i])), i))
    for i in order[:num - sum(counts)]:
        counts[i] += 1
    plan: list[bytes] = []
    left = counts[:]
    while len(plan) < num:
        for i, p in enumerate(payloads):
            if left[i]:
                plan.append(p.payload)
                left[i] -= 1
    return plan
