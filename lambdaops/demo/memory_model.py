"""How a demo function's duration depends on its memory size (noise-free part).

Lambda allocates CPU in proportion to memory: one full vCPU at 1,769 MB, about six at 10,240 MB.
Single-threaded work speeds up until one vCPU and then stops; multi-threaded work keeps speeding up.
I/O wait does not depend on memory. So, with ``cpu_ms`` the CPU work measured at one vCPU:

    duration(m) = cpu_ms * ((1 - parallel) / min(vcpu(m), 1) + parallel / vcpu(m)) + io_ms

Below the working set the function runs out of memory. Traffic, Invoke and the truth file all use
these functions, so what the tuner measures and what the truth file predicts agree up to noise.
"""

from __future__ import annotations

import math

FULL_VCPU_MB = 1769
MAX_MEMORY_MB = 10240
MAX_VCPU = 6.0
TUNING_GRID = (128, 256, 512, 1024, 1536, 2048, 3008)


def vcpu(memory_mb: float) -> float:
    if memory_mb <= FULL_VCPU_MB:
        return memory_mb / FULL_VCPU_MB
    # linear from 1 vCPU at 1,769 MB to 6 at 10,240 MB
    return 1.0 + (memory_mb - FULL_VCPU_MB) * (MAX_VCPU - 1.0) / (MAX_MEMORY_MB - FULL_VCPU_MB)


def expected_duration_ms(cpu_ms: float, parallel: float, io_ms: float, memory_mb: float) -> float:
    v = vcpu(memory_mb)
    return cpu_ms * ((1.0 - parallel) / min(v, 1.0) + parallel / v) + io_ms


def expected_billed_ms(cpu_ms: float, parallel: float, io_ms: float, memory_mb: float) -> int:
    """Billed duration rounds up to the next millisecond."""
    return int(math.ceil(expected_duration_ms(cpu_ms, parallel, io_ms, memory_mb)))


def init_scale(memory_mb: float) -> float:
    """INIT runs on the same CPU share (boosted by Lambda, so only half as sensitive)."""
    return 0.5 + 0.5 / min(vcpu(max(memory_mb, 128)), 1.0) ** 0.5
