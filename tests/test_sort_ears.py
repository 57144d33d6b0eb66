"""Sort rewards ears: a hidden clip reaches the client as sound, never as notes, until the round
ends. Shown two ways, on real rounds of the real app (in-process, the committed models composing):

- structurally: nothing a client receives before the end (every ack and every push of a round in
  which it makes every kind of move) holds a hidden clip's notes, its content key or the answer;
  what it learns of a hidden clip is its id, its length, and after a listen its sound's address;
- by chance: a script ordering the hidden clips by anything it receives (the tray, the ids, the
  clip map, the sound addresses) scores what a random order scores, within the noise; the same
  measure does see the leak of a tray that is a derangement of the answer.

And the sound's address: a WAV of the clip's length there, a 404 at any other or tampered
address, served by any process from the stored round."""

from __future__ import annotations

import io
import json
import random
import wave

import numpy as np
import pytest

from game_server.app import services_of
from game_server.games.sort.rules import SortLevel, slices_puzzle
from music import content_key, piece_from_dict

from .server import InProcessClient, heard_only_rate, in_process_app
from .test_sort_rules import piece_of_bars


def pcm(wav: bytes) -> np.ndarray:
    """A WAV's 16-bit samples, as integers wide enough to subtract."""
    with wave.open(io.BytesIO(wav)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.int32)


class Recording(InProcessClient):
    """A client that keeps everything it receives: every ack and every push, in order."""

    def __init__(self, app, name: str):
        self.received: list = []
        super().__init__(app, name)
        self.seq = 0

    def call(self, event: str, payload=None) -> dict:
        reply = super().call(event, payload)
        self.received += [reply] + [e["args"][0] for e in self.sio.get_received()]
        return reply

    def move(self, round_id: str, version: int, kind: str, **fields) -> dict:
        self.seq += 1
        return self.call("sort_move", {"round_id": round_id, "seq": self.seq, "version": version, "move": {"kind": kind, **fields}})


def start(app, ladder: str, level: int, name: str = "Eve") -> tuple[Recording, str, dict]:
    player = Recording(app, name)
    code = player.call("create_room", {"game": "sort", "mode": "solo", "ladder": ladder, "level": level})["room"]["code"]
    return player, code, player.call("start_round", {})["round"]


def puzzle_of(app, code: str):
    with services_of(app).store.locked(code) as room:
        return room.round.puzzle


def listen_to_every_clip(player: Recording, view: dict) -> dict:
    """Listen to each clip; the listen replies' `clip`, by id."""
    return {cid: player.move(view["round_id"], 0, "listen_clip", clip=cid)["clip"] for cid in view["board"]["clips"]}


def pieces_in(value) -> list[dict]:
    """Every Piece JSON anywhere in a payload."""
    if isinstance(value, dict):
        found = [value] if value.get("format") == "melody-arcade.piece" else []
        return found + [p for v in value.values() for p in pieces_in(v)]
    if isinstance(value, list):
        return [p for v in value for p in pieces_in(v)]
    return []


@pytest.mark.parametrize("ladder, level", [("morph", 5), ("slices", 4)])
def test_nothing_received_before_the_end_holds_a_hidden_clips_notes_or_the_order(app, ladder, level):
    player, code, view = start(app, ladder, level)
    rid, board = view["round_id"], view["board"]
    puzzle = puzzle_of(app, code)
    hidden = {cid for cid, clip in puzzle.clips.items() if clip.hidden}
    assert hidden and all(board["clips"][cid] == {"hidden": True, "bars": 2, "piece": None} for cid in hidden)

    heard = listen_to_every_clip(player, view)  # every kind of move short of submitting
    version = player.move(rid, 0, "listen_board")["board"]["version"]
    free = [s for s in range(len(board["slots"])) if s not in board["fixed"]]
    # Slot free[2], which no later move touches, gets a wrong clip: the player's own board never
    # spells the answer (placed in the tray's order, it did in one round of 120).
    tray = list(board["tray"])
    assert len(free) >= 3 and len(tray) == len(free)
    if tray[2] == puzzle.answer[free[2]]:
        tray[2], tray[-1] = tray[-1], tray[2]
    for slot, clip in zip(free, tray):
        version = player.move(rid, version, "place", clip=clip, slot=slot)["board"]["version"]
    version = player.move(rid, version, "swap", slot=free[0], other=free[1])["board"]["version"]
    version = player.move(rid, version, "take_back", slot=free[0])["board"]["version"]

    for cid in hidden:  # of a hidden clip: its sound's address and its length, nothing else
        assert set(heard[cid]) == {"id", "hidden", "audio", "seconds"} and heard[cid]["audio"].endswith(f"/clips/{puzzle.clips[cid].audio}.wav")
    assert len({heard[cid]["seconds"] for cid in hidden}) == 1  # all of one length: the length says nothing
    visible = {clip.key for clip in puzzle.clips.values() if not clip.hidden}
    received = player.received
    assert all(content_key(piece_from_dict(p)) in visible for p in pieces_in(received))  # every note received is a visible clip's
    text = json.dumps(received)
    assert not any(clip.key in text for clip in puzzle.clips.values())  # nor any content key
    assert json.dumps(list(puzzle.answer)) not in text and "answer" not in text
    tokens_said = [m for m in received if puzzle.clips[next(iter(hidden))].audio in json.dumps(m)]
    assert len(tokens_said) == 1 and tokens_said[0]["clip"]["id"] in hidden  # an address is said once: in its listen's reply


def concordance(order: list[str], answer: list[str]) -> float:
    """The share of pairs of `order` in the same order as in `answer`: 1 right, 0 reversed, a
    random order 0.5 on average (the score's (1 + tau) / 2)."""
    rank = {clip: answer.index(clip) for clip in order}
    pairs = [(a, b) for i, a in enumerate(order) for b in order[i + 1 :]]
    return sum(rank[a] < rank[b] for a, b in pairs) / len(pairs)


def orders_a_script_can_make(view: dict, heard: dict, hidden: list[str]) -> dict[str, list[str]]:
    """The hidden clips ordered by each thing the client received that is not sound."""
    tray = [c for c in view["board"]["tray"] if c in hidden]
    by_map = [c for c in view["board"]["clips"] if c in hidden]  # the page numbers clips in this order
    return {
        "tray": tray,
        "tray reversed": tray[::-1],
        "clip ids": sorted(hidden),
        "clip map": by_map,
        "sound addresses": sorted(hidden, key=lambda c: heard[c]["audio"]),
    }


ROUNDS = 20


def test_a_script_orders_hidden_clips_by_what_it_receives_no_better_than_chance(app):
    """Morph level 6: every option (5 a round) hidden. The concordance of a random order of 5 has
    a standard deviation of 0.204 a round; 4 standard errors either side of 0.5 over the rounds
    is the band of chance."""
    scores: dict[str, list[float]] = {}
    for _ in range(ROUNDS):
        player, code, view = start(app, "morph", 5)
        heard = listen_to_every_clip(player, view)
        puzzle = puzzle_of(app, code)
        hidden = [cid for cid in puzzle.answer if puzzle.clips[cid].hidden]
        for name, order in orders_a_script_can_make(view, heard, hidden).items():
            scores.setdefault(name, []).append(concordance(order, list(puzzle.answer)))
        player.call("leave_room", {})
    band = 4 * 0.204 / ROUNDS**0.5
    means = {name: sum(s) / len(s) for name, s in scores.items()}
    assert all(abs(mean - 0.5) < band for mean in means.values()), (means, band)


def test_the_tray_of_a_level_with_hidden_clips_is_no_clue_and_a_derangement_would_be():
    """The rules alone, 3000 puzzles of 4 slices each: a tray shuffled so that no clip starts in
    its own slot tells a script to reverse it (63 % of the order on average); the tray of a
    level with hidden clips is a plain shuffle, and reversing it scores chance (sd 0.245 a
    puzzle: 0.0045 over 3000)."""
    piece = piece_of_bars([60, 64, 67, 72])
    rng = random.Random(11)

    def reversed_tray_mean(level: SortLevel) -> float:
        scores = []
        for _ in range(3000):
            puzzle, board = slices_puzzle(piece, level, rng)
            scores.append(concordance(list(board.tray)[::-1], list(puzzle.answer)))
        return sum(scores) / len(scores)

    assert reversed_tray_mean(SortLevel("slices", 4, bars=4)) > 0.6
    assert abs(reversed_tray_mean(SortLevel("slices", 4, hidden=4, bars=4)) - 0.5) < 0.02


def test_a_hidden_clip_is_heard_at_the_address_its_listen_gives_and_nowhere_else(app, tmp_path):
    player, code, view = start(app, "morph", 5)
    rid, http = view["round_id"], app.test_client()
    assert "/clips/" not in json.dumps(player.received)  # before a listen, no address at all
    puzzle = puzzle_of(app, code)
    clip = view["board"]["tray"][0]
    assert http.get(f"/api/rounds/{rid}/clips/{'A' * 22}.wav").status_code == 404

    sound = player.move(rid, 0, "listen_clip", clip=clip)["clip"]
    response = http.get(sound["audio"])
    assert response.status_code == 200 and response.mimetype == "audio/wav"
    with wave.open(io.BytesIO(response.data)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, heard_only_rate())
        seconds = w.getnframes() / w.getframerate()
    assert abs(seconds - puzzle.clips[clip].piece.duration_seconds) < 1e-3 and abs(seconds - sound["seconds"]) < 1e-3

    token = puzzle.clips[clip].audio
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    other, _, other_view = start(app, "morph", 5, name="Mallory")
    other_sound = other.move(other_view["round_id"], 0, "listen_clip", clip=other_view["board"]["tray"][0])["clip"]
    for address in (
        f"/api/rounds/{rid}/clips/{tampered}.wav",  # one character changed
        f"/api/rounds/{other_view['round_id']}/clips/{token}.wav",  # this clip's token on another round
        other_sound["audio"].replace(other_view["round_id"], rid),  # another round's token on this one
        f"/api/rounds/{rid}/clips/{token[:8]}.wav",
        f"/api/rounds/{rid}/clips/{clip}.wav",  # the clip's id is not its address
    ):
        assert http.get(address).status_code == 404, address
    assert token not in json.dumps(http.get(f"/api/rounds/{rid}").get_json())

    second = in_process_app(tmp_path)  # another server process on the same database serves it too
    try:
        again = second.test_client().get(sound["audio"]).data
        # the same sound: FluidSynth's renders (made anew in that process) agree to -60 dB, not bit for bit
        assert len(again) == len(response.data) and np.abs(pcm(again) - pcm(response.data)).max() <= 32
    finally:
        services_of(second).storage.close()
