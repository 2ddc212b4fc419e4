"""Python's cycle collector held off while a bulk read is built (ADR 0041).

A Word pack at national scale makes some 6,000 model objects and as many of its own, all of
which live until the document is written. The cycle collector runs by allocation count,
so it walked them again and again as they passed through its generations, and every
second pack or so a full pass walked every object in the process besides: about 45 ms of a
300 ms pack, 80 ms in the packs with a full pass (each pass timed with gc.callbacks: ADR 0041).
Nothing a bulk read makes needs the collector: its objects are freed by their reference
counts as the response is returned. So the collector waits until then.

The collector belongs to the process: in a threaded server, another thread's request runs
without it for as long as the bulk read lasts, which costs it nothing but memory held a
little longer; whichever bulk read ends first turns it back on. gunicorn's workers here
are processes with one request each (config/gunicorn.py).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def held_off() -> Iterator[None]:
    """The collector off for the block, and back on after it however it ends (if it was
    on: a caller that had turned it off keeps it off)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
