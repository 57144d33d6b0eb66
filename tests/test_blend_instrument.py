"""Beat Blender's instrument on the server: Beat Hunt's tools (game_server/games/blend/instrument.py)
served by the generic `POST /api/games/<game>/<tool>` (game_server/http.py), in-process with the
committed drum model: the grid with sampled corners (the same for a seed) and with given ones
(exactly themselves), the refusals of bad bodies, the presets (each a beat the grid takes), the
MIDI of a path of beats (read back: its drum hits are the beats'), and the composer's refusals."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from game_server.composer import ComposerUnavailable, ComposeTimeout, PiecePool
from game_server.games.blend.instrument import BlendRequest, patterns
from game_server.games.blend.presets import PLAN
from music import DRUM_CLASSES, Meter, drum_hits, read_midi

STEPS = {"4/4": 32, "3/4": 24, "6/8": 24}


def post(client, tool: str, body, game: str = "blend"):
    return client.post(f"/api/games/{game}/{tool}", data=json.dumps(body), content_type="application/json")


@pytest.fixture
def client(app):
    return app.test_client()


def corners_of(grid: dict) -> list:
    n = grid["n"] - 1
    b = grid["beats"]
    return [b[0][0], b[n][0], b[0][n], b[n][n]]


def test_a_sampled_grid_is_the_same_for_a_seed_and_its_corners_are_its_corner_cells(client):
    first = post(client, "grid", {"seed": 7, "n": 9, "meter": "3/4", "style": "waltz"})
    assert first.status_code == 200, first.get_json()
    grid = first.get_json()
    assert (grid["n"], grid["meter"], grid["style"], grid["seed"], grid["steps"]) == (9, "3/4", "waltz", 7, 24)
    assert grid["drums"] == [d.value for d in DRUM_CLASSES]
    assert len(grid["beats"]) == 9 and all(len(column) == 9 for column in grid["beats"])
    assert all(len(beat) == 24 and all(0 <= m <= 511 for m in beat) for column in grid["beats"] for beat in column)
    assert grid["corners"] == corners_of(grid)
    assert len({json.dumps(c) for c in grid["corners"]}) == 4  # contrasting: four different beats
    assert post(client, "grid", {"seed": 7, "n": 9, "meter": "3/4", "style": "waltz"}).get_json() == grid
    assert post(client, "grid", {"seed": 8, "n": 9, "meter": "3/4", "style": "waltz"}).get_json()["corners"] != grid["corners"]
    unseeded = post(client, "grid", {}).get_json()  # the defaults: 11 x 11, 4/4, jazz, a seed of its own
    assert (unseeded["n"], unseeded["meter"], unseeded["style"], unseeded["steps"]) == (11, "4/4", "jazz", 32)
    assert isinstance(unseeded["seed"], int)


def test_given_corners_come_back_exactly_and_the_grid_blends_between_them(client):
    presets = post(client, "presets", {}).get_json()["presets"]
    corners = [p["beat"] for p in presets if p["meter"] == "4/4"][:3] + [[0] * 32]  # a silent corner too
    grid = post(client, "grid", {"corners": corners, "n": 11, "style": "rock"}).get_json()
    assert grid["corners"] == corners and corners_of(grid) == corners
    cells = {json.dumps(beat) for column in grid["beats"] for beat in column}
    assert len(cells) > 10  # blended: many beats between the four
    assert post(client, "grid", {"corners": corners, "n": 11, "style": "rock"}).get_json()["beats"] == grid["beats"]  # no sampling: the same grid
    edited = [list(c) for c in corners]
    edited[0][3] ^= 1  # one kick toggled on the first corner, as the page's editor does
    again = post(client, "grid", {"corners": edited, "n": 11, "style": "rock"}).get_json()
    assert again["corners"] == edited and again["beats"][0][0] == edited[0]


@pytest.mark.parametrize(("body", "says"), [
    ({"corners": [[0] * 24] * 4}, "24 steps"),  # T of 3/4 in a 4/4 grid
    ({"corners": [[0] * 24] * 4, "meter": "6/8", "style": "jazz", "n": 5, "seed": 1, "extra": 1}, "extra"),
    ({"corners": [[512] + [0] * 31] * 4}, "less than or equal to 511"),
    ({"corners": [[-1] + [0] * 31] * 4}, "greater than or equal to 0"),
    ({"corners": [[0] * 32] * 3}, "at least 4"),
    ({"n": 12}, "less than or equal to 11"),
    ({"n": 4}, "greater than or equal to 5"),
    ({"n": "11"}, "valid integer"),
    ({"meter": "5/4"}, "meter"),
    ({"meter": "3/4", "style": "pop"}, "never trained on pop in 3/4"),
    ({"style": "bossa"}, "style"),
    ({"seed": -1}, "seed"),
])
def test_bad_grid_bodies_are_refused_with_bad_payload(client, body, says):
    response = post(client, "grid", body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "bad_payload" and says in error["message"], error


def test_a_body_that_is_no_json_object_and_unknown_tools_or_games(client):
    response = client.post("/api/games/blend/grid", data="corners", content_type="text/plain")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_payload"
    assert post(client, "grid", [1, 2]).status_code == 400
    for game, tool in (("blend", "nope"), ("nope", "grid"), ("sort", "grid")):
        response = post(client, tool, {}, game=game)
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "unknown_tool"
    assert client.get("/api/games/blend/grid").status_code == 405  # tools are POSTs


def test_the_presets_are_beats_of_the_training_grooves_the_grid_takes(client):
    body = post(client, "presets", {}).get_json()
    presets = body["presets"]
    assert len(presets) == sum(count for _, _, count in PLAN) == 24
    assert {p["meter"] for p in presets} == {"4/4", "3/4", "6/8"} and len({p["style"] for p in presets}) >= 8
    assert len({(p["meter"], p["name"]) for p in presets}) == len(presets)
    for p in presets:
        assert p["groove"].startswith("stdlib/") and p["style"] in body["styles"][p["meter"]]
        assert len(p["beat"]) == STEPS[p["meter"]] and all(0 <= m <= 511 for m in p["beat"])
        assert sum(bin(m).count("1") for m in p["beat"]) >= 8
    waltzes = [p["beat"] for p in presets if p["meter"] == "3/4"][:4]
    grid = post(client, "grid", {"corners": waltzes, "n": 5, "meter": "3/4", "style": "waltz"}).get_json()
    assert grid["corners"] == waltzes
    assert post(client, "presets", {"x": 1}).status_code == 400


def test_the_presets_name_the_styles_the_drum_model_was_trained_on():
    import torch

    from game_server.games.blend.instrument import presets
    from models.drums import CHECKPOINT

    meta = torch.load(CHECKPOINT, map_location="cpu", weights_only=False)["meta"]
    assert presets()["styles"] == {m: sorted(s for s, n in styles.items() if n) for m, styles in meta["train_patterns"].items()}


def test_midi_of_a_path_of_beats_reads_back_as_those_beats(client):
    presets = post(client, "presets", {}).get_json()["presets"]
    beats = [p["beat"] for p in presets if p["meter"] == "6/8"][:3]
    response = post(client, "midi", {"beats": beats, "tempo": 96, "meter": "6/8"})
    assert response.status_code == 200 and response.mimetype == "audio/midi"
    piece = read_midi(response.data)
    assert (piece.tempo, str(piece.meter), piece.bars) == (96, "6/8", 6)
    meter = Meter.parse("6/8")
    wanted = sorted((h.step + 24 * i, h.drum) for i, pattern in enumerate(patterns(beats)) for h in drum_hits(pattern, meter))
    assert sorted((h.step, h.drum) for h in piece.drums) == wanted
    one = read_midi(post(client, "midi", {"beats": beats[:1], "tempo": 120, "meter": "6/8"}).data)
    assert one.bars == 2 and len(one.drums) == len(drum_hits(patterns(beats[:1])[0], meter))


@pytest.mark.parametrize("body", [
    {"beats": [], "tempo": 120},
    {"beats": [[0] * 32] * 65, "tempo": 120},
    {"beats": [[0] * 32], "tempo": 39},
    {"beats": [[0] * 32], "tempo": 241},
    {"beats": [[0] * 24], "tempo": 120},  # 4/4 by default: 32 steps
    {"beats": [[1024] * 32], "tempo": 120},
])
def test_bad_midi_bodies_are_refused(client, body):
    response = post(client, "midi", body)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_payload"


def test_the_composer_busy_or_down_is_a_503_with_its_code(tmp_path):
    from .server import in_process_app

    def down(request, seed):
        raise ComposerUnavailable("frozen")

    app = in_process_app(tmp_path, compose=down)
    response = post(app.test_client(), "grid", {"seed": 1})
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "composer_unavailable"

    def slow(request, seed):
        time.sleep(0.5)
        return ()

    pool = PiecePool(slow, depth=0, timeout=0.1)
    try:
        with pytest.raises(ComposeTimeout):
            pool.compose_now(BlendRequest(5, "4/4", "jazz", 1))
    finally:
        pool.close()


def test_a_blend_request_is_hashable_and_its_grid_is_indexed_x_then_y():
    class Drums:
        def blend(self, corners, n, meter, style):
            grid = np.zeros((n, n, 32, 9), dtype=np.uint8)
            grid[0, 0], grid[0, -1], grid[-1, 0], grid[-1, -1] = corners  # [row = y, column = x], as DrumComposer.blend
            return grid

    class Composer:
        drums = Drums()

    corners = tuple(tuple([1 << k] + [0] * 31) for k in range(4))
    request = BlendRequest(5, "4/4", "jazz", 3, corners)
    assert hash(request) == hash(BlendRequest(5, "4/4", "jazz", 3, corners))
    (grid,) = request.compose(Composer(), 0)
    assert [int(grid[x, y, 0].argmax()) for x, y in ((0, 0), (4, 0), (0, 4), (4, 4))] == [0, 1, 2, 3]
