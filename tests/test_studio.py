"""The studio's HTTP API (game_server/studio.py), in-process with the committed models: describe,
compose, story, a tune continued or varied, bars re-rolled, a MIDI file read as a tune; and the
music it answers with starts a round on the very same piece."""

from __future__ import annotations

import json

from game_server.app import services_of
from music import Instruments, Key, Meter, Note, Piece, piece_from_dict, piece_to_dict, read_midi, to_midi_bytes

from .server import InProcessClient, wait_for_round


def post(app, path: str, body, raw: bool = False):
    client = app.test_client()
    reply = client.post(path, data=body, content_type="audio/midi") if raw else client.post(path, json=body)
    return reply.status_code, reply.get_json()


def sig(notes) -> list[tuple[int, int, int]]:
    return [(n["pitch"], n["start"], n["end"]) for n in notes]


TUNE = Piece(tempo=100, meter=Meter(4, 4), key=Key(7, "major"), bars=2, melody=tuple(Note(4 * i, 4 * i + 4, p) for i, p in enumerate([67, 69, 71, 72, 74, 72, 71, 69])))


def test_describe_says_what_it_understood_and_what_it_ignored(app):
    status, heard = post(app, "/api/studio/describe", {"text": "a fast Scottish reel in D minor with vocals"})
    assert status == 200 and heard["options"]["style"] == "scottish" and heard["options"]["key"] == 2 and heard["options"]["mood"] == "minor"
    assert any(r["phrase"] == "vocals" for r in heard["ignored"]) and "understood" in heard["summary"]


def test_composed_music_starts_a_round_on_the_same_piece(app):
    status, made = post(app, "/api/studio/compose", {"description": "slow sad waltz on violin", "music": {"tempo": 66}, "bars": 8})
    assert status == 200, made
    piece = piece_from_dict(made["piece"])
    assert (str(piece.meter), piece.tempo, piece.key.mode, piece.instruments.melody) == ("3/4", 66, "minor", 40)  # the choice's tempo wins over "slow"
    ada = InProcessClient(app, "Ada")
    assert ada.call("create_room", {"game": "sort"})["ok"]
    view = ada.call("start_round", {"music": made["music"]})["round"]
    stored = wait_for_round(services_of(app).storage, view["round_id"])
    assert json.loads(stored.piece) == made["piece"]


def test_a_story_answers_its_sections_in_order(app):
    status, told = post(app, "/api/studio/story", {"story": {"sections": [{"description": "jazz", "bars": 2}, {"description": "rock", "bars": 4}, {"description": "scottish folk", "bars": 2}], "seed": 9}})
    assert status == 200, told
    assert [s["bar"] for s in told["sections"]] == [0, 2, 6] and [p["bars"] for p in told["pieces"]] == [2, 4, 2]
    assert told["story"]["seed"] == 9 and told["sections"][1]["heard"]["options"]["groove"] == "rock"
    # the file to take home: the sections joined, each at its own tempo
    whole, sections = piece_from_dict(told["piece"]), [piece_from_dict(p) for p in told["pieces"]]
    assert whole.bars == 8 and whole.melody[0] == sections[0].melody[0] and len(whole.melody) == sum(len(p.melody) for p in sections)
    assert [whole.tempo_at(s["bar"]) for s in told["sections"]] == [p.tempo for p in sections]
    midi = app.test_client().post("/api/studio/piece.mid", json={"piece": told["piece"], "seed": told["seed"]})
    assert midi.status_code == 200 and read_midi(midi.data).tempo_changes == whole.tempo_changes


def test_a_tune_is_continued_with_its_bars_kept_and_arranged(app):
    status, made = post(app, "/api/studio/tune", {"piece": piece_to_dict(TUNE), "how": "continue", "bars": 8, "music": {"groove": "folk", "instruments": {"melody": 110}}})
    assert status == 200, made
    out = made["piece"]
    assert out["bars"] == 8 and sig(out["melody"][:8]) == sig(piece_to_dict(TUNE)["melody"])  # the tune note for note
    assert out["chords"] and out["drums"] and out["instruments"]["melody"] == 110
    status, same = post(app, "/api/studio/tune", {"piece": piece_to_dict(TUNE), "how": "vary", "amount": 0.0})
    assert status == 200 and sig(same["piece"]["melody"]) == sig(piece_to_dict(TUNE)["melody"])  # amount 0: the tune itself


def test_regenerate_rewrites_only_the_chosen_bars(app):
    _, made = post(app, "/api/studio/compose", {"bars": 8, "music": {"seed": 5}})
    status, again = post(app, "/api/studio/regenerate", {"piece": made["piece"], "first": 2, "last": 3, "seed": 1})
    assert status == 200, again

    def outside(piece):
        return [n for n in sig(piece["melody"]) if not 32 <= n[1] < 64]

    assert outside(again["piece"]) == outside(made["piece"]) and again["piece"]["melody"] != made["piece"]["melody"]
    assert again["piece"]["drums"] == made["piece"]["drums"]


def test_a_midi_file_is_read_as_a_tune_and_bad_ones_are_refused(app):
    long = Piece(tempo=120, meter=Meter(4, 4), key=Key(2, "minor"), bars=12, melody=tuple(Note(4 * i, 4 * i + 3, 62 + i % 5) for i in range(48)),
                 instruments=Instruments(melody=40))
    status, read = post(app, "/api/studio/midi", to_midi_bytes(long), raw=True)
    assert status == 200 and read["cut"] and read["bars_in_file"] == 12 and read["piece"]["bars"] == 8
    assert sig(read["piece"]["melody"]) == [(62 + i % 5, 4 * i, 4 * i + 3) for i in range(32)]
    assert post(app, "/api/studio/midi", b"MThd not really", raw=True)[1]["error"]["code"] == "bad_midi"
    status, huge = post(app, "/api/studio/midi", b"\0" * (65 * 1024), raw=True)
    assert status == 413 and huge["error"]["code"] == "too_large"


def test_refusals_have_codes(app):
    assert post(app, "/api/studio/compose", {"music": {"style": "jazz"}})[1]["error"]["code"] == "bad_payload"
    assert post(app, "/api/studio/compose", {"music": {"meter": "3/4", "groove": "dance"}})[1]["error"]["code"] == "unsupported_music"
    assert post(app, "/api/studio/tune", {"piece": {"format": "nope"}})[1]["error"]["code"] == "bad_piece"
    assert post(app, "/api/studio/tune", {"piece": piece_to_dict(TUNE), "how": "continue", "bars": 2})[1]["error"]["code"] == "bad_payload"
    assert post(app, "/api/studio/regenerate", {"piece": piece_to_dict(TUNE), "first": 1, "last": 5})[1]["error"]["code"] == "bad_payload"
    assert post(app, "/api/studio/describe", {"text": "x" * 501})[1]["error"]["code"] == "bad_payload"
    assert app.test_client().post("/api/studio/compose", data="[]", content_type="application/json").get_json()["error"]["code"] == "bad_payload"


def test_a_studio_piece_plays_as_sort_and_run_on_its_own_board(app):
    _, made = post(app, "/api/studio/tune", {"piece": piece_to_dict(TUNE), "how": "continue", "bars": 8, "music": {"seed": 3}})
    _, rerolled = post(app, "/api/studio/regenerate", {"piece": made["piece"], "first": 6, "last": 7, "seed": 2})
    ada = InProcessClient(app, "Ada")
    assert ada.call("create_room", {"game": "sort"})["ok"]
    view = ada.call("start_round", {"piece": rerolled["piece"]})["round"]
    assert view["level"] == "slices-0-own" and len(view["board"]["clips"]) == 4
    stored = wait_for_round(services_of(app).storage, view["round_id"])
    assert json.loads(stored.piece) == rerolled["piece"]

    bo = InProcessClient(app, "Bo")
    assert bo.call("create_room", {"game": "sort", "ladder": "morph"})["ok"]
    morph = bo.call("start_round", {"piece": rerolled["piece"]})["round"]
    assert morph["level"] == "morph-0-own" and len(morph["board"]["clips"]) == 4 and morph["board"]["fixed"] == [0, 3]

    cy = InProcessClient(app, "Cy")
    assert cy.call("create_room", {"game": "run", "level": 1})["ok"]
    run = cy.call("start_round", {"piece": rerolled["piece"]})  # proven finishable at its own tempo
    assert run["ok"], run
    assert run["round"]["level"] == "run-1-own" and run["round"]["run"]["piece"]["melody"] == rerolled["piece"]["melody"]
    assert run["round"]["run"]["tempo"] == rerolled["piece"]["tempo"]
    fast = {**rerolled["piece"], "tempo": 400}  # no person keeps up with it
    eve = InProcessClient(app, "Eve")
    assert eve.call("create_room", {"game": "run", "level": 1})["ok"]
    assert eve.call("start_round", {"piece": fast})["error"]["code"] == "unplayable_music"
    dee = InProcessClient(app, "Dee")
    assert dee.call("create_room", {"game": "sort"})["ok"]
    assert dee.call("start_round", {"piece": {**rerolled["piece"], "bars": 40}})["error"]["code"] == "bad_piece"
    assert dee.call("start_round", {"piece": rerolled["piece"], "music": {}})["error"]["code"] == "bad_payload"


def test_the_studio_piece_downloads_as_files_that_say_what_wrote_them(app, request):
    import io

    import mido

    from music import sampled

    _, made = post(app, "/api/studio/compose", {"bars": 2, "music": {"seed": 8, "tempo": 120}})
    client = app.test_client()
    midi = client.post("/api/studio/piece.mid", json={"piece": made["piece"], "seed": made["seed"]})
    assert midi.status_code == 200 and read_midi(midi.data).tempo == 120
    said = [m.text for track in mido.MidiFile(file=io.BytesIO(midi.data)).tracks for m in track if m.type == "text"]
    assert any("the studio, seed 8" in text for text in said)
    request.getfixturevalue("synth")  # skips, saying why, where this machine cannot render sound
    wav = client.post("/api/studio/piece.wav", json={"piece": made["piece"], "seed": made["seed"]})
    assert wav.status_code == 200 and wav.data[:4] == b"RIFF" and "the studio, seed 8" in sampled.wav_info(wav.data)["ICMT"]
    assert client.post("/api/studio/piece.mp4", json={"piece": made["piece"]}).get_json()["error"]["code"] == "no_such_format"


def test_the_choices_are_the_composers(app):
    from models.grooves import STYLES as GROOVES
    from models.options import METERS, STYLES
    from music import DRUM_KITS, GM_PROGRAMS

    choices = app.test_client().get("/api/studio/choices").get_json()
    assert [s for s, _ in choices["styles"]] == list(STYLES) and choices["meters"] == list(METERS) and choices["grooves"] == list(GROOVES)
    assert choices["programs"] == list(GM_PROGRAMS) and dict(choices["kits"]) == DRUM_KITS
    assert choices["instruments"] == {"melody": 73, "chords": 0, "bass": 33, "drums": 0} and choices["tempo"] == [40, 220]
