"""Rounds on music the host chose (the start's `music`), in-process: Sort and Run honour it, the
round stores it, the same choice and seed start the same piece; Beat Hunt hunts around a player's
piece's beat; the games that play their own music, or a choice the models cannot honour, are
refused with a code."""

from __future__ import annotations

import json
from dataclasses import replace

from game_server.app import services_of
from game_server.games.blend.material import beat_of, masks, unpack_beats
from music import Instruments, Key, Meter, piece_from_dict, piece_to_dict

from .server import InProcessClient, wait_for_round

CHOICE = {"style": "scottish", "mood": "minor", "tempo": 84, "meter": "6/8", "key": 2, "density": "sparse", "groove": "march",
          "instruments": {"melody": 109, "chords": 48, "bass": 32, "drums": 40}}


def started(app, game: str, music: dict | None, ladder: str | None = None, name: str = "Ada") -> dict:
    player = InProcessClient(app, name)
    assert player.call("create_room", {"game": game, **({"ladder": ladder} if ladder else {})})["ok"]
    return player.call("start_round", {} if music is None else {"music": music})


def test_a_sort_round_is_the_music_its_host_chose_and_keeps_the_choice(app):
    view = started(app, "sort", {**CHOICE, "seed": 1234})["round"]
    clips = [piece_from_dict(clip["piece"]) for clip in view["board"]["clips"].values()]
    assert {(str(c.meter), c.key, c.tempo, c.instruments) for c in clips} == {("6/8", Key(2, "minor"), 84, Instruments(109, 48, 32, 40))}
    stored = wait_for_round(services_of(app).storage, view["round_id"])
    assert stored.seed == 1234 and stored.setup["music"] == {k: v for k, v in CHOICE.items()}

    again = started(app, "sort", {**CHOICE, "seed": 1234}, name="Bo")["round"]
    other = started(app, "sort", {**CHOICE, "seed": 1235}, name="Cy")["round"]
    pieces = [json.loads(wait_for_round(services_of(app).storage, r["round_id"]).piece) for r in (view, again, other)]
    assert pieces[0] == pieces[1] != pieces[2]


def test_a_morph_round_takes_the_choice_too(app):
    view = started(app, "sort", {"style": "essen", "mood": "major", "tempo": 100, "key": 7, "instruments": {"melody": 40}}, ladder="morph")["round"]
    clips = [piece_from_dict(clip["piece"]) for clip in view["board"]["clips"].values() if clip["piece"] is not None]
    assert clips and {(c.key, c.tempo, c.instruments.melody) for c in clips} == {(Key(7, "major"), 100, 40)}


def test_a_run_level_is_the_chosen_music_at_the_chosen_tempo(app):
    view = started(app, "run", {"style": "irish", "mood": "major", "tempo": 110, "key": 9, "instruments": {"melody": 22}})["round"]
    piece = piece_from_dict(view["run"]["piece"])
    assert (piece.key, piece.tempo, piece.instruments.melody) == (Key(9, "major"), 110, 22)


def test_a_beat_hunt_round_hunts_around_the_players_beat(app):
    """The studio's "play this as Beat Hunt": the piece's first two bars of drums are a corner of
    the grid, in its meter and at its tempo; the round plays to a result as any hunt does."""
    composed = app.test_client().post("/api/studio/compose", json={"bars": 4, "music": {"meter": "3/4", "tempo": 100, "groove": "waltz", "seed": 3}})
    made = composed.get_json()
    assert composed.status_code == 200 and made["piece"]["drums"]
    hunter = InProcessClient(app, "Hu")
    assert hunter.call("create_room", {"game": "blend"})["ok"]
    view = hunter.call("start_round", {"piece": made["piece"]})["round"]
    grid = view["hunt"]
    assert view["level"] == "hunt-0-own" and (grid["meter"], grid["tempo"]) == ("3/4", 100)
    assert masks(unpack_beats(grid["packed_beats"], 25, grid["steps"])[0]) == masks(beat_of(piece_from_dict(made["piece"])))  # corner (0, 0): the first cell
    reply = hunter.call("hunt_move", {"round_id": view["round_id"], "seq": 1, "kind": "submit"})
    assert reply["ok"] and reply["result"]["level"] == "hunt-0-own"
    stored = wait_for_round(services_of(app).storage, view["round_id"])
    assert stored.level == "hunt-0-own" and stored.setup["packed_beats"] == grid["packed_beats"]


def test_refusals(app):
    hunter = InProcessClient(app, "Hu")
    assert hunter.call("create_room", {"game": "blend"})["ok"]
    assert hunter.call("start_round", {"music": {"style": "irish"}})["error"]["code"] == "music_not_steered"
    made = piece_from_dict(app.test_client().post("/api/studio/compose", json={"bars": 4, "music": {"meter": "4/4", "seed": 5}}).get_json()["piece"])
    for piece in (replace(made, drums=()), replace(made, meter=Meter(2, 4), bars=8, drums=made.drums[:1])):  # no beat; a meter the grids are not in
        assert hunter.call("start_round", {"piece": piece_to_dict(piece)})["error"]["code"] == "unsupported_music"
    assert hunter.call("start_round", {})["ok"]  # the room is fine

    reply = started(app, "sort", {"meter": "3/4", "groove": "dance"}, name="Dj")
    assert reply["error"]["code"] == "unsupported_music" and "dance" in reply["error"]["message"]
    for bad in ({"style": "jazz"}, {"tempo": 9}, {"instruments": {"drums": 3}}, {"seed": -1}, "fast"):
        reply = started(app, "sort", bad, name="Ed")
        assert reply["error"]["code"] == "bad_payload", (bad, reply)
