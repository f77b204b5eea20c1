"""`make bench` section "real_data" (issue 8): the public data sets through the whole pipeline, beside the
published results. The implementation is benchmarks/real_data.py (also `make bench-real`)."""

from __future__ import annotations

from benchmarks.real_data import run

__all__ = ["run"]
