"""Drum grooves rendered from Debian's mma library (models/grooves.py)."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from models.grooves import grooves_in, load_mma_drum_patterns


def test_drum_patterns_say_when_mma_is_missing(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="mma"):
        load_mma_drum_patterns(tmp_path)


@pytest.mark.skipif(shutil.which("mma") is None, reason="Debian's mma package is not installed")
def test_one_mma_groove_file_renders_to_2_bar_patterns(tmp_path):
    from models.grooves import render

    patterns = render(Path("/usr/share/mma/lib/stdlib/50srock.mma"), tmp_path)
    assert patterns and all(p.shape == (32, 9) and p.dtype == np.uint8 for p in patterns)
    assert sum(p[:, 0].sum() for p in patterns) > 0  # kicks


@pytest.mark.skipif(shutil.which("mma") is None, reason="Debian's mma package is not installed")
def test_waltz_grooves_are_three_beat():
    grooves = dict(grooves_in(Path("/usr/share/mma/lib/stdlib/countrywaltz.mma")))
    assert grooves and set(grooves.values()) == {3}
