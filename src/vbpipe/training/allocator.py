"""glibc's ``malloc`` tuned for a training process, so that per-step buffers are reused, not refaulted.

By default glibc serves blocks above a (dynamic) threshold with ``mmap`` and returns them to the kernel on
``free``, and trims the heap top beyond 128 KiB. A training step allocates and frees the same few-MiB tensors every
step; measured before the workspace existed, a 16-member ensemble at hidden 128, horizon 100 page-faulted 76k times
per forward and backward. Raising both thresholds keeps that memory in the process. This is process-wide and
harmless for a job that only trains; it is set once, on the CPU path, and only where the C library is glibc.
"""

from __future__ import annotations

import ctypes
import platform

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # glibc's largest allowed value on 64-bit systems
TRIM_THRESHOLD = 1 << 30


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds; returns whether it applied (False off glibc)."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
