"""Short turns on the CPU for the processes a player waits on (Linux's EEVDF scheduler).

The server's event loop and the database writer work in short bursts, each answering a player,
while the machine's other ordinary processes (a load generator, a backup, a compiler) may hold
both cores for their whole turn. Since Linux 6.12 a task may ask for a shorter slice than the
default (`sched_setattr` with `sched_runtime`; no privilege needed, its share of the CPU is
unchanged): its deadlines come sooner, so when it wakes it runs first instead of waiting out
the current turn. Where the call is missing or refused, nothing changes.
"""

from __future__ import annotations

import ctypes
import os
import platform
import struct
import sys

SLICE_NS = 100_000  # the shortest slice Linux grants (0.1 ms; the default is 0.7 ms, more with more cores)
SCHED_OTHER = 0
SYS_SCHED_SETATTR = {"x86_64": 314, "aarch64": 274}
SCHED_ATTR_SIZE = 56  # struct sched_attr as of Linux 4.13 (with util_min and util_max)


def take_short_turns() -> bool:
    """Asks for SLICE_NS turns for the calling thread, keeping its policy and nice value;
    True if the kernel took the request (a kernel before 6.12 takes it and ignores it)."""
    number = SYS_SCHED_SETATTR.get(platform.machine())
    if sys.platform != "linux" or number is None or os.sched_getscheduler(0) != SCHED_OTHER:
        return False
    # struct sched_attr: size, policy, flags, nice, priority, runtime, deadline, period, util_min, util_max
    attr = struct.pack("IIQiIQQQII", SCHED_ATTR_SIZE, SCHED_OTHER, 0, os.getpriority(os.PRIO_PROCESS, 0), 0, SLICE_NS, 0, 0, 0, 0)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.syscall(number, 0, ctypes.create_string_buffer(attr, len(attr)), 0) == 0
    except (OSError, AttributeError):
        return False
