"""How the server's processes give freed memory back to the system (glibc's allocator).

glibc maps a large allocation on its own and unmaps it when freed, but after the first such
free it raises the size it calls large, up to 32 MiB. From then on the arrays a worker makes
and drops (building the index, a batch's columns, a passenger list) come from its heap, which
keeps what they leave behind: under sustained load the workers' memory grew by a few MiB a
minute and held about 170 MiB more (docs/benchmarks.md, "Load"). A fixed threshold keeps
large blocks mapped on their own, so that freeing them returns them.
"""

from __future__ import annotations

import ctypes
import os

ENVIRONMENT = "MALLOC_MMAP_THRESHOLD_"  # glibc reads it when a process starts
THRESHOLD_BYTES = 128 * 1024  # glibc's own starting value, kept fixed
_M_MMAP_THRESHOLD = -3  # mallopt's parameter (malloc.h)


def return_large_blocks() -> None:
    """Keep the threshold fixed in this process and in every process it starts (the workers,
    the index's builder). A value the deployment set in the environment is kept."""
    threshold = int(os.environ.setdefault(ENVIRONMENT, str(THRESHOLD_BYTES)))
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc: its allocator has its own ways
        return
    mallopt(_M_MMAP_THRESHOLD, threshold)
