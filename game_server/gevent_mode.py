"""Whether this process runs on gevent: asked by the parts that wait differently there."""

from __future__ import annotations

import sys


def gevent_patched() -> bool:
    """Whether this process runs on gevent: the standard library's threads were monkey-patched
    into greenlets before anything started one (`python -m game_server serve` does it first)."""
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and monkey.is_module_patched("threading")
