"""Short turns on the CPU (game_server.priority): the calling thread's slice becomes 0.1 ms and
its nice value stays. In a child interpreter: the change is the thread's own."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import json, os
from game_server.priority import SLICE_NS, take_short_turns

def slice_ns():
    for line in open("/proc/thread-self/sched"):
        if line.startswith("se.slice"):
            return int(line.split(":")[1])

os.nice(3)
before = slice_ns()
taken = take_short_turns()
print(json.dumps({"taken": taken, "before": before, "after": slice_ns(), "wanted": SLICE_NS, "nice": os.getpriority(os.PRIO_PROCESS, 0)}))
"""


def kernel_at_least(major: int, minor: int) -> bool:
    release = platform.release().split("-")[0].split(".")
    return (int(release[0]), int(release[1])) >= (major, minor)


@pytest.mark.skipif(sys.platform != "linux" or not kernel_at_least(6, 12), reason="custom EEVDF slices came with Linux 6.12")
def test_the_calling_thread_takes_short_turns_and_keeps_its_nice_value():
    done = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    if seen["before"] is None:
        pytest.skip("this kernel's /proc does not show a task's slice (CONFIG_SCHED_DEBUG off)")
    assert seen["taken"] and seen["before"] > seen["wanted"]
    assert seen["after"] == seen["wanted"]
    assert seen["nice"] == 3
