"""Rounds on music the host chose (the start's `music`), in-process: Sort and Run honour it, the
round stores it, the same choice and seed start the same piece, and the games that play their own
music, or a choice the models cannot honour, are refused with a code."""

from __future__ import annotations

import json

from game_server.app import services_of
from music import Instruments, Key, piece_from_dict

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


def test_refusals(app):
    hunter = InProcessClient(app, "Hu")
    assert hunter.call("create_room", {"game": "blend"})["ok"]
    assert hunter.call("start_round", {"music": {"style": "irish"}})["error"]["code"] == "music_not_steered"
    assert hunter.call("start_round", {})["ok"]  # the room is fine

    reply = started(app, "sort", {"meter": "3/4", "groove": "dance"}, name="Dj")
    assert reply["error"]["code"] == "unsupported_music" and "dance" in reply["error"]["message"]
    for bad in ({"style": "jazz"}, {"tempo": 9}, {"instruments": {"drums": 3}}, {"seed": -1}, "fast"):
        reply = started(app, "sort", bad, name="Ed")
        assert reply["error"]["code"] == "bad_payload", (bad, reply)
