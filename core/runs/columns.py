"""A run's per-epoch record as it arrives, held as growing numpy columns, and the server's freed memory handed back.

Held as lists, every epoch of every column was a Python float (32 bytes with its list slot): a 300,000-epoch run of
seven columns put 67 MB of small objects in the server, once in its job and once more in each page watching it. Freed,
they left the allocator's arenas pinned by whatever was allocated between them (benchmarks/soak.py: 242 → 497 MB with
no browser connected). Here a column is one float64 block (int64 for the epoch), 8 bytes an epoch, that grows by
doubling, so a long run costs a handful of large allocations the C library can give back.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator, Mapping

import numpy as np

MIN_CAPACITY = 256  # epochs a column has room for at first


class Columns(Mapping[str, np.ndarray]):
    """Columns of equal length that grow by whole batches. A column reads as a view of its filled part (no copy);
    None (no test rows) is held as NaN, which the worker already sends it as."""

    def __init__(self, names: tuple[str, ...] = ("epoch",)):
        self._n = 0
        self._buffers: dict[str, np.ndarray] = {name: _empty(name, MIN_CAPACITY) for name in names}

    def extend(self, batch: Mapping[str, object]) -> None:
        """Append one batch ({column: values}, every column the same length). A column new in this batch is NaN for
        the epochs before it; a column the batch lacks is NaN for the batch's epochs."""
        if not batch:
            return
        size = len(next(iter(batch.values())))  # type: ignore[arg-type]
        end = self._n + size
        for name in [*self._buffers, *(c for c in batch if c not in self._buffers)]:
            buf = self._buffers.get(name)
            if buf is None:
                buf = self._buffers[name] = _empty(name, max(MIN_CAPACITY, end))
                buf[: self._n] = np.nan
            if len(buf) < end:  # double: n epochs cost O(n) copying in all
                grown = _empty(name, max(end, 2 * len(buf)))
                grown[: self._n] = buf[: self._n]
                buf = self._buffers[name] = grown
            buf[self._n : end] = np.asarray(batch[name], dtype=buf.dtype) if name in batch else np.nan
        self._n = end

    def compact(self) -> dict[str, np.ndarray]:
        """The filled parts as arrays of their own size: a finished run's record, without the room to grow."""
        return {name: buf[: self._n].copy() for name, buf in self._buffers.items()}

    @property
    def nbytes(self) -> int:
        return sum(buf.nbytes for buf in self._buffers.values())

    def __getitem__(self, name: str) -> np.ndarray:
        return self._buffers[name][: self._n]

    def __iter__(self) -> Iterator[str]:
        return iter(self._buffers)

    def __len__(self) -> int:
        return len(self._buffers)


def _empty(name: str, capacity: int) -> np.ndarray:
    return np.empty(capacity, dtype=np.int64 if name == "epoch" else np.float64)


def release_freed_memory() -> bool:
    """Hand the C library's free pages back to the system (glibc's malloc_trim). Its arenas keep what Python and numpy
    free for reuse, so a server that held long runs stays at its peak without this. False where there is no glibc."""
    try:
        return bool(ctypes.CDLL("libc.so.6").malloc_trim(0))  # dlopen of a loaded library: a lookup, no load
    except (OSError, AttributeError):  # musl, macOS, Windows
        return False
