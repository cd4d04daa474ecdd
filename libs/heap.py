"""glibc's heap, told to give large blocks back.

By default glibc raises its mmap threshold to the size of the largest block freed so far (up
to 32 MiB): after a few uploads of several MB, each new body, multipart copy and pickled job
of that size comes from the heap instead of a mapping of its own, and the heap keeps the
pages once the peak is past. A process that receives large uploads grows by the size of its
largest burst and stays there. A fixed threshold turns that adjustment off: every block of
`threshold` bytes or more is mapped on allocation and unmapped on free."""

import ctypes
import ctypes.util

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number


def map_large_blocks(threshold: int = 256 * 1024) -> bool:
    """True if glibc took the setting (False on another C library)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    libc = ctypes.CDLL(name)
    mallopt = getattr(libc, "mallopt", None)
    return bool(mallopt is not None and mallopt(M_MMAP_THRESHOLD, threshold) == 1)


def release_free_memory() -> None:
    """Hands the free pages of every malloc arena back to the system (glibc's malloc_trim):
    after a burst of large requests, what the mapped blocks above left behind in the heap."""
    name = ctypes.util.find_library("c")
    trim = getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    if trim is not None:
        trim(0)
