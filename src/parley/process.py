"""Settings of the Python process itself, shared by `parley serve` and `parley worker`."""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Leave what startup built out of every later garbage collection.

    Routes, schemas and table metadata live as long as the process, yet each full
    collection walked all of them again: on status callbacks that was the slowest
    hundredth of requests (p99 180 -> 108 ms, bench/README.md).
    """
    gc.collect()
    gc.freeze()
