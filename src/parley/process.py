"""Settings of the Python process itself, shared by `parley serve` and `parley worker`."""

from __future__ import annotations

import gc
import logging
import logging.config
from typing import Any

# CPython collects its youngest generation once 700 more objects were made than freed.
# Under load (64 status callbacks in flight) that came about every tenth request, each
# pass moving the requests still running into older generations, collected in turn: 5 %
# of the server's CPU, for collections that found next to nothing, as reference counting
# frees almost all a request makes. At this mark the same load collected nothing in
# 9,000 callbacks (bench/README.md).
YOUNG_OBJECTS_BEFORE_COLLECTING = 20_000


def tune_garbage_collection() -> None:
    """Leave what startup built out of every later collection, and collect less often.

    Routes, schemas and table metadata live as long as the process, yet each full
    collection walked all of them again: on status callbacks that was the slowest
    hundredth of requests (p99 180 -> 108 ms, bench/README.md).
    """
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_OBJECTS_BEFORE_COLLECTING, middle, old)


# One line per event, every logger alike (uvicorn's requests included), with the time.
LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": LOG_FORMAT}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "stream": "ext://sys.stderr",
        }
    },
    "root": {"handlers": ["stderr"], "level": "INFO"},
}


def configure_logging() -> None:
    """Log every logger's INFO and above to stderr in LOG_FORMAT, at the least cost.

    uvicorn's own access formatter took 14 µs a request against 4 µs for this one
    (bench/README.md). The record no longer notes the calling thread, process and
    source line, which no line shows: Python's logging HOWTO, "Optimization".
    """
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging._srcfile = None
    logging.config.dictConfig(LOGGING)
