"""pretty_midi, imported without a word on stdout.

Where pyfluidsynth is installed (music/sampled.py renders with it), pretty_midi imports it, and
pyfluidsynth prints where it found its library whenever the environment has CI set. Our stdout
is no place for that: `python -m game_server generate --json -o -` writes its piece there.
"""

import contextlib
import io

with contextlib.redirect_stdout(io.StringIO()):
    import pretty_midi

__all__ = ["pretty_midi"]
