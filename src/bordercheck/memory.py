"""How the server's processes give freed memory back to the system (glibc's allocator).

Two of glibc's defaults let a long-running Python server's memory creep up under load
(docs/benchmarks.md, "Load"):

- glibc maps a large allocation on its own and unmaps it when freed, but after the first such
  free it raises the size it calls large, up to 32 MiB. From then on the arrays a process
  makes and drops (building the index, a batch's columns, a passenger list) come from its
  heap, which keeps what they leave behind. A fixed threshold keeps them mapped on their
  own, so that freeing them returns them.
- Each thread that allocates may get an arena of its own, up to eight per core, and an
  arena seldom gives back what it once held. A worker's threads (the thread pool that runs
  the routes, the query log's writer) then grow arenas apart. Two arenas are shared by all.
"""

from __future__ import annotations

import ctypes
import os

# What glibc reads from the environment when a process starts, and the value kept.
SETTINGS = {
    "MALLOC_MMAP_THRESHOLD_": 128 * 1024,  # glibc's own starting value, kept fixed
    "MALLOC_ARENA_MAX": 2,
}
# mallopt's parameters (malloc.h), for this process, already started.
_MALLOPT = {"MALLOC_MMAP_THRESHOLD_": -3, "MALLOC_ARENA_MAX": -8}


def return_freed_memory() -> None:
    """Set both in this process and in every process it starts (the workers, the index's
    builder). A value the deployment set in the environment is kept."""
    values = {name: os.environ.setdefault(name, str(v)) for name, v in SETTINGS.items()}
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc: its allocator has its own ways
        return
    for name, value in values.items():
        if value.isdigit():  # else glibc, which reads it too, makes of it what it does
            mallopt(_MALLOPT[name], int(value))
