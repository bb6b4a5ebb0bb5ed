"""The garbage collector in a service process: what has lived a while is frozen out of its
full collections, so that none stalls the writer for long.

CPython frees most objects when their last reference goes; its cyclic collector finds the
rest by walking every container object it tracks, and a *full* collection (generation 2)
walks them all while holding the interpreter. A serving or writer process holds hundreds of
thousands of long-lived ones — the world cache's declared objects and geometries, the
verified record's entries — so under the hostage bench's attack (20,000 declared objects,
one party stacking its worst operations) a full collection took 130–220 ms in the writer
process, nine of them in 20 s, each holding every unit of work queued behind it: they, not
the units, made the other party's p99.

:func:`settle` collects once, then freezes what is left (:func:`gc.freeze`: moved to a
permanent generation that collections skip), so later collections walk only what was made
since. :class:`Upkeep` — a thread started by the composition root in each process that
``accord serve`` starts (``Settings.heap_upkeep``) — settles at start-up and every
:data:`SETTLE_EVERY_S` (what has lived that long tends to live on), and every
:data:`THAW_EVERY_S` unfreezes everything first: a frozen object that later dies inside a
reference cycle is freed only by a full collection after it is unfrozen, so freezing holds
on to such garbage for at most that long, at the cost of one full pause per period.

Tests and one-off commands leave the collector as it is (``heap_upkeep`` off): freezing is a
choice for a long-running process that owns its interpreter.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import gc
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

__all__ = ["SETTLE_EVERY_S", "THAW_EVERY_S", "Upkeep", "paused", "settle", "trim"]

SETTLE_EVERY_S = 60.0
"""How often the upkeep collects and freezes what was made since the last time."""
THAW_EVERY_S = 3600.0
"""How often the upkeep unfreezes everything before it settles (one full collection)."""

_log = logging.getLogger("accord.center")


_pause_lock = threading.Lock()
_pauses = 0
_state: dict[str, bool] = {}  # "enabled": whether the collector ran before the first pause


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """The cyclic collector paused while the block runs (and while any other thread's
    paused block runs), for a block that builds a large structure without cycles at once —
    a snapshot of the picture's state read back: millions of new containers would otherwise
    set off collection after collection, each walking all of them (2.7 s instead of 0.3 s
    for 100,000 declarations). Reference counting still frees what the block drops."""
    global _pauses
    with _pause_lock:
        _pauses += 1
        if _pauses == 1:
            was_enabled = gc.isenabled()
            gc.disable()
            _state["enabled"] = was_enabled
    try:
        yield
    finally:
        with _pause_lock:
            _pauses -= 1
            if _pauses == 0 and _state.pop("enabled", False):
                gc.enable()


def settle(*, thaw: bool = False) -> None:
    """Collect, then freeze every object left; with ``thaw``, unfreeze everything first
    (a full collection over the whole heap: the one that frees frozen garbage). Then hand
    the C allocator's free memory back to the system (:func:`trim`)."""
    if thaw:
        gc.unfreeze()
    gc.collect()
    gc.freeze()
    trim()


def trim() -> None:
    """glibc's ``malloc_trim(0)``, where the C library has it: the free memory of its heap
    given back to the system. A start-up's passing buffers (a checkpoint's parts read,
    snapshots decompressed) otherwise stay in the process's resident memory. Nothing where
    there is no glibc."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


@functools.cache
def _libc() -> Any:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None


class Upkeep:
    """The collector's schedule in one process (see the module's description): settles at
    once, then every ``every`` seconds, unfreezing first every ``thaw_every`` seconds, until
    :meth:`stop`."""

    def __init__(self, *, every: float = SETTLE_EVERY_S, thaw_every: float = THAW_EVERY_S) -> None:
        if not 0 < every <= thaw_every:
            raise ValueError("settle every positive interval, thaw no more often than that")
        self.every = every
        self.thaw_every = thaw_every
        self.settled = 0
        self.thawed = 0
        self._stop = threading.Event()
        settle()
        self.settled += 1
        self._thread = threading.Thread(target=self._run, name="accord-heap", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        thawed_at = time.monotonic()
        while not self._stop.wait(self.every):
            thaw = time.monotonic() - thawed_at >= self.thaw_every
            try:
                settle(thaw=thaw)
            except Exception:  # pragma: no cover - the collector does not raise
                _log.exception("settling the heap failed")
                continue
            self.settled += 1
            if thaw:
                self.thawed += 1
                thawed_at = time.monotonic()

    def stop(self) -> None:
        """Stop the schedule (what is frozen stays frozen: the process is ending)."""
        self._stop.set()
        self._thread.join()
