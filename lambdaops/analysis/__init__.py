"""Analysis: pure computations over collected numbers (no I/O, no AWS)."""
