"""Fuzzing the socket protocol against one real server process.

Four hostile clients (two in Sort rooms, two in Run rooms, each its own connection) send a few
thousand events drawn by hypothesis: every event name of docs/protocol.md and unknown ones, with
payloads that are mostly right but wrong somewhere (types, missing or extra fields, huge or
negative numbers, long strings, junk nesting, lists, None, several arguments) and ids taken from
other rooms (a bystander's round, a co-op room's code, a forged token). Every event must be
refused with a code, or be one the protocol lets that client make in its own room; the server must
stay up and log no traceback; and a bystander and a co-op room, both mid-round, must notice nothing
and be able to go on playing.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from itsdangerous import URLSafeSerializer

from game_server.games import GAMES
from game_server.games.run.game import RunInput
from game_server.games.sort.game import SortMove
from game_server.protocol import MAX_EVENT_BYTES, Calibrate, CreateRoom, Hello, JoinRoom, LeaveRoom, ProtocolError, Resync, StartRound, parse

from .server import Player, answer_of, solve, start_sort

pytestmark = pytest.mark.timeout(600)

# The protocol's payload models are the oracle for "could this event be accepted at all"
# (start_round's is the model of the game of the room the client is in).
MODELS = {"hello": Hello, "create_room": CreateRoom, "join_room": JoinRoom, "leave_room": LeaveRoom, "start_round": StartRound, "sort_move": SortMove, "run_input": RunInput, "calibrate": Calibrate, "resync": Resync}
# Socket.IO's own event names: a client sending one reached the app's connect/disconnect
# handlers until transport.guard_frames; pinned by test_reserved_event_names_are_refused
# below and left out of the fuzzing, which stays about everything else.
RESERVED = {"connect", "disconnect", "*"}
# An accepted leave_room or create_room costs the sender its round, and a new Sort round is
# composed, which is slow on 2 cores: only the first hostile (the roamer) is sent those, so that
# the others keep their rounds; new Sort rounds are budgeted (Hostile.round_starts_left).
ROAMING = {"leave_room", "create_room"}
EXAMPLES, MIN_EVENTS, MAX_EVENTS = 150, 8, 24  # ~2,000 events
SORT_ROUND_STARTS = 6


@dataclass(frozen=True)
class Ref:
    """A value known only when the event is sent: the sender's round id or next seq, the
    bystander's round id, ... `offset` shifts numbers (ticks) and picks among clips."""

    name: str
    offset: int = 0


# --- strategies ---------------------------------------------------------------------------------

EDGE_INTS = [-1, 0, 1, 63, 64, 250, 251, 2**31, 2**31 + 1, 2**53, 2**63, -(2**63), 10**6, 10**6 + 1, 10**40, -(10**40)]
OTHERS = st.sampled_from([Ref("bystander_round"), Ref("victim_round"), Ref("bystander_code"), Ref("victim_code"), Ref("forged_token")]) | st.builds(Ref, st.just("bystander_clip"), st.integers(0, 3))
LEAF = st.one_of(st.none(), st.booleans(), st.integers(), st.sampled_from(EDGE_INTS), st.floats(), st.text(max_size=30), st.binary(max_size=16), OTHERS)
JUNK = st.recursive(LEAF, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=12), kids, max_size=4), max_leaves=12)
LONG = st.builds(lambda ch, n: ch * n, st.characters(codec="utf-8"), st.sampled_from([100, 2_000, 17_000, 17_000, 100_000]))
DEEP = st.integers(20, 200).map(lambda depth: json.loads("[" * depth + "]" * depth))


def weighted(*choices: tuple[int, st.SearchStrategy]) -> st.SearchStrategy:
    """One of the strategies, each drawn about `weight` times in sum-of-weights."""
    return st.sampled_from([strategy for weight, strategy in choices for _ in range(weight)]).flatmap(lambda strategy: strategy)


def nearly(valid: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly a right value, sometimes a wrong one."""
    return weighted((36, valid), (3, JUNK), (1, LONG))


@st.composite
def obj(draw, fields: dict[str, st.SearchStrategy]) -> dict:
    """An object that is mostly right: each field right, wrong or missing; now and then an extra."""
    out = {name: draw(value) for name, value in fields.items() if draw(st.integers(0, 39)) < 39}
    if draw(st.integers(0, 39)) == 39:
        out[draw(st.text(max_size=12))] = draw(JUNK)
    return out


def args_of(body: st.SearchStrategy) -> st.SearchStrategy:
    """The event's arguments: usually one object, sometimes junk, none, two, huge or deep."""
    return weighted((15, body.map(lambda b: (b,))), (1, JUNK.map(lambda j: (j,))), (1, st.just(())), (1, st.tuples(body, JUNK)),
                    (1, LONG.map(lambda s: ({"x": s},))), (1, DEEP.map(lambda d: (d,))))


SEQ = weighted((7, st.just(Ref("next_seq"))), (1, st.just(Ref("last_seq"))), (1, st.integers(-3, 3)), (1, st.sampled_from(EDGE_INTS)))
ROUND = weighted((7, st.just(Ref("own_round"))), (2, OTHERS), (1, st.text(max_size=50)))
VERSION = weighted((7, st.just(Ref("version"))), (3, st.integers(-2, 2**31 + 1)))
TICK = weighted((7, st.builds(Ref, st.just("tick"), st.integers(-60, 40))), (2, st.builds(Ref, st.just("tick"), st.integers(-10**6, 10**6))), (1, st.sampled_from(EDGE_INTS)))
SLOT = weighted((4, st.integers(0, 7)), (1, st.integers(-5, 100)))
CLIP = weighted((7, st.builds(Ref, st.just("own_clip"), st.integers(0, 7))), (2, st.builds(Ref, st.just("bystander_clip"), st.integers(0, 3))), (1, st.text(max_size=40)))
INPUT = obj({"tick": nearly(TICK), "lane": nearly(weighted((3, st.just(0)), (1, st.integers(-1, 2)))), "key": nearly(st.sampled_from(["left", "right", "jump", "up"])), "down": nearly(st.booleans())})
KIND = st.sampled_from(["place", "swap", "take_back", "listen_clip", "listen_board", "submit", "score"])

BODIES = {
    "hello": obj({"name": nearly(st.text(max_size=30)), "token": nearly(st.sampled_from([Ref("own_token"), Ref("tampered_token"), Ref("forged_token")]) | st.text(max_size=600))}),
    "create_room": obj({"game": nearly(st.sampled_from(["sort", "run", "chess", ""])), "mode": nearly(st.sampled_from(["solo", "coop", "duo"])), "ladder": nearly(st.sampled_from(["slices", "morph", "run", "slices" * 3])), "level": nearly(st.integers(-3, 110))}),
    "join_room": obj({"code": nearly(st.sampled_from([Ref("own_code"), Ref("bystander_code"), Ref("victim_code")]) | st.text(max_size=20))}),
    "leave_room": st.one_of(st.none(), st.just({}), JUNK),
    "resync": st.one_of(st.none(), st.just({}), JUNK),
    "start_round": obj({"level": nearly(st.integers(-3, 110)), "lanes": nearly(st.sampled_from(["melody", "both", "chords"]))}),
    "sort_move": obj({"round_id": nearly(ROUND), "seq": nearly(SEQ), "version": nearly(VERSION),
                      "move": nearly(obj({"kind": nearly(KIND), "clip": nearly(CLIP), "slot": nearly(SLOT), "other": nearly(SLOT)}))}),
    "run_input": obj({"round_id": nearly(ROUND), "seq": nearly(SEQ), "inputs": nearly(weighted((3, st.lists(INPUT, min_size=1, max_size=2)), (1, st.lists(INPUT, max_size=34))))}),
    "calibrate": obj({"offset_ms": nearly(st.integers(-300, 300))}),
}
UNKNOWN = st.one_of(st.sampled_from(["submit_score", "message", "error", "board", "round_ended", "HELLO", "sort_move ", "__proto__", "connect_error"]), st.text(max_size=60)).filter(lambda n: n not in MODELS and n not in RESERVED)
EVENT = weighted(*[(w, st.tuples(st.just(name), args_of(BODIES[name]))) for name, w in
                   {"hello": 6, "create_room": 3, "join_room": 6, "leave_room": 2, "start_round": 4, "sort_move": 24, "run_input": 18, "calibrate": 6, "resync": 2}.items()],
                 (8, st.tuples(UNKNOWN, args_of(JUNK))))


def resolve(value, refs: dict):
    if isinstance(value, Ref):
        target = refs[value.name]
        if isinstance(target, list):
            return target[value.offset % len(target)] if target else "no-clip"
        return target + value.offset if isinstance(target, int) else target
    if isinstance(value, dict):
        return {k: resolve(v, refs) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(resolve(v, refs) for v in value)
    return value


def tampered(token: str) -> str:
    """The token with one signature character changed: not the last, whose low bits base64
    decoding drops (so changing it may leave the same signature: not a forgery)."""
    return token[:-5] + ("A" if token[-5] != "A" else "B") + token[-4:]


# --- the hostile client -------------------------------------------------------------------------


class Hostile:
    """One hostile connection with a room and a round of its own, paced under the server's rate
    limit (30 events/s) so that events are judged on their content, not refused for the rate.

    It follows its own state from the replies (which room, round, seq and board version the
    server says it has) so that the oracle knows what it may legitimately be allowed to do."""

    RATE = 28.0
    round_starts_left = 0  # new Sort rounds left to all of them (SORT_ROUND_STARTS at the start)

    def __init__(self, server, name: str, game: str):
        self.player = Player(server, name)
        self.game, self.own_id, self.token = game, self.player.player_id, self.player.token
        self.code, self.round_id, self.round_over = None, None, True
        self.room_game = game  # the game of the room this client is in: its start_round takes that game's options
        self.seq = self.version = 0
        self.clips: list[str] = []
        self.t0 = time.monotonic()
        self.last_sent = 0.0
        self.ensure_playing()

    def ok(self, event: str, data, timeout: float = 60) -> dict:
        reply = self.player.call(event, data, timeout=timeout)
        assert reply["ok"], (event, data, reply)
        return reply

    def take_round(self, view: dict | None) -> None:
        self.round_id, self.round_over = (view["round_id"], view["result"] is not None) if view else (None, True)
        if view and "board" in view:
            self.version, self.clips = view["board"]["version"], sorted(view["board"]["clips"])
        if view and "run" in view:
            self.t0 = time.monotonic() - view["run"]["clock_tick"] / 60

    def ensure_playing(self) -> None:
        """Back to a known state: this client's own player, alone in a room of its game, with a
        live round. Cheap when nothing changed (the usual case)."""
        ended = [d for name, d in self.player.seen if name == "round_ended"]
        if any(d.get("round_id") == self.round_id for d in ended[-3:]):
            self.round_over = True
        if self.code is None:
            self.code = self.ok("create_room", {"game": self.game, "level": 0})["room"]["code"]
            self.seq, self.round_over, self.room_game = 0, True, self.game
        if self.round_over and (self.game == "run" or Hostile.round_starts_left > 0):  # Run levels are quick to make
            Hostile.round_starts_left -= self.game == "sort"
            started = self.player.call("start_round", {}, timeout=60)
            if not started["ok"] and started["error"]["code"] == "room_not_full":  # an example left it alone in a co-op room it made
                self.ok("leave_room", {})
                self.code = self.ok("create_room", {"game": self.game, "level": 0})["room"]["code"]
                self.seq, self.room_game = 0, self.game
                started = self.player.call("start_round", {}, timeout=60)
            assert started["ok"] or started["error"]["code"] == "composer_busy", started  # busy: try again next example
            if started["ok"]:
                self.take_round(started["round"])

    def refs(self) -> dict:
        return {"own_round": self.round_id or "none", "own_code": self.code or "none", "own_token": self.token,
                "tampered_token": tampered(self.token), "own_clip": self.clips,
                "next_seq": self.seq + 1, "last_seq": self.seq, "version": self.version, "tick": int((time.monotonic() - self.t0) * 60)}

    def may_accept(self, event: str, args: tuple) -> bool:
        """Whether the protocol lets this client's event succeed at all (the server may still
        refuse it for the state of the round: a stale version, a key already down, ...)."""
        if event not in MODELS or len(args) > 1:
            return False
        data = args[0] if args else None
        if len(json.dumps(data, default=str)) > MAX_EVENT_BYTES:
            return False
        try:
            p = parse(GAMES[self.room_game].start_model if event == "start_round" else MODELS[event], data)
        except ProtocolError:
            return False
        if event == "hello":
            return p.token == self.token  # one connection, one player: no token (a new one) or another's is refused
        if event == "join_room":
            return p.code.strip().upper() == self.code
        if event in ("sort_move", "run_input"):
            return p.round_id == self.round_id and p.seq >= self.seq  # the last seq again: a resent move
        if event == "start_round":
            return self.code is not None
        return True

    def pushed_errors(self, mark: int, timeout: float = 5.0) -> list[dict]:
        """The `error` events pushed since `mark`. The server pushes one before it acks, but the
        client handles each packet on a thread of its own, so the ack can be seen first: wait
        for the push a little."""
        deadline = time.monotonic() + timeout
        while True:
            pushed = [d for name, d in self.player.seen[mark:] if name == "error"]
            if pushed or time.monotonic() > deadline:
                return pushed
            time.sleep(0.01)

    def send(self, event: str, args: tuple, shared: dict, tally: Counter) -> None:
        args = resolve(args, {**shared, **self.refs()})
        time.sleep(max(0.0, self.last_sent + 1 / self.RATE - time.monotonic()))
        self.last_sent, mark = time.monotonic(), len(self.player.seen)
        reply = self.player.call(event, args, timeout=60)
        assert isinstance(reply, dict) and isinstance(reply.get("ok"), bool), (event, args, reply)
        if reply["ok"]:
            tally[event, "ok"] += 1
            assert self.may_accept(event, args), ("accepted but should not be", event, args, reply)
            self.follow(event, args[0] if args else None, reply)
            return
        error = reply["error"]
        tally[event if event in MODELS else "<unknown>", error["code"]] += 1
        assert isinstance(error.get("code"), str) and error["code"] and isinstance(error.get("message"), str), (event, args, reply)
        assert error["code"] != "server_error", ("a handler failed", event, args, reply)
        pushed = self.pushed_errors(mark)
        assert pushed and pushed[-1]["code"] == error["code"] and pushed[-1]["event"] == str(event)[:40], ("refusal not pushed as an error event", event, reply, pushed)
        if error["code"] == "round_over" and args and isinstance(args[0], dict) and args[0].get("round_id") == self.round_id:
            self.round_over = True
        if error["code"] == "stale_board" and "board" in error:
            self.version = error["board"]["version"]

    def follow(self, event: str, data, reply: dict) -> None:
        """Keep up with what an accepted event changed, and check its reply says so."""
        if event == "hello":
            assert reply["player_id"] == self.own_id  # a connection plays for one player only
            self.seq = reply["last_seq"]
            self.code = reply["room"]["code"] if reply["room"] else None
            self.room_game = reply["room"]["game"] if reply["room"] else self.room_game
            self.take_round(reply["round"])
        elif event == "create_room":
            assert reply["room"]["game"] == data["game"] and reply["room"]["host"] == self.own_id
            self.code, self.seq, self.room_game = reply["room"]["code"], 0, data["game"]
            self.take_round(None)
        elif event == "leave_room":
            self.code = None
            self.take_round(None)
        elif event == "join_room":
            assert reply["room"]["code"] == self.code
        elif event == "start_round":
            self.take_round(reply["round"])
        elif event == "sort_move":
            if not reply.get("duplicate"):  # a resent move's reply is the old one, with the old board
                self.seq, self.version = data["seq"], reply["board"]["version"]
            self.round_over = self.round_over or "result" in reply
        elif event == "run_input":
            assert reply["accepted"] == len(data["inputs"])
            self.seq = data["seq"]
        elif event == "calibrate":
            assert reply["offset_ms"] == data["offset_ms"]
        elif event == "resync":  # the room as this client knows it, from the server
            assert (reply["room"]["code"] if reply["room"] else None) == self.code


# --- the test -----------------------------------------------------------------------------------


def listen(player: Player, round_id: str) -> dict:
    reply = player.move(round_id, 0, "listen_board")
    assert reply["ok"], reply
    return reply["board"]


def test_hostile_events_are_refused_with_a_code_and_bystanders_notice_nothing(server):
    bystander = Player(server, "Bystander")
    host, guest = Player(server, "VictimHost"), Player(server, "VictimGuest")
    Hostile.round_starts_left = SORT_ROUND_STARTS + 2
    hostiles = [Hostile(server, f"Hostile{i}", game) for i, game in enumerate(["sort", "sort", "run", "run"])]
    try:
        round_ = start_sort(bystander)
        victim = start_sort(host, mode="coop", partner=guest)
        shared = {"bystander_round": round_["round_id"], "bystander_code": server.stored_round(round_["round_id"]).room,
                  "victim_round": victim["round_id"], "victim_code": server.stored_round(victim["round_id"]).room,
                  "bystander_clip": sorted(round_["board"]["clips"]),
                  "forged_token": URLSafeSerializer("not-the-secret", salt="melody-arcade.player").dumps({"player": bystander.player_id})}
        before, victim_before = listen(bystander, round_["round_id"]), listen(host, victim["round_id"])
        guest.wait_for("board", where=lambda data: data["board"] == victim_before)  # so that it is not counted below
        seen = {p: len(p.seen) for p in (bystander, host, guest)}
        log_mark = server.log.stat().st_size
        tally: Counter = Counter()

        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
        @given(st.lists(EVENT, min_size=MIN_EVENTS, max_size=MAX_EVENTS))
        def fuzz(events):
            for hostile in hostiles:
                hostile.ensure_playing()
            for i, (event, args) in enumerate(events):
                (hostiles[0] if event in ROAMING else hostiles[i % len(hostiles)]).send(event, args, shared, tally)

        fuzz()
        print(f"\n{sum(tally.values())} hostile events:", sorted(tally.items(), key=lambda kv: -kv[1]))
        assert {event for event, _ in tally} >= set(MODELS) | {"<unknown>"}
        assert tally["calibrate", "ok"] and sum(n for (e, c), n in tally.items() if e == "sort_move" and c == "ok")

        # the server is up, and nothing in it failed
        assert server.process.poll() is None and server.get("/healthz")["status"]
        assert "Traceback" not in server.log.read_bytes()[log_mark:].decode(errors="replace")
        # the bystanders saw nothing, and their boards are as they left them
        assert bystander.seen[seen[bystander]:] == [] and host.seen[seen[host]:] == [] and guest.seen[seen[guest]:] == []
        after, victim_after = listen(bystander, round_["round_id"]), listen(host, victim["round_id"])
        assert after == {**before, "version": before["version"] + 1, "listens": before["listens"] + 1}
        assert victim_after == {**victim_before, "version": victim_before["version"] + 1, "listens": victim_before["listens"] + 1}
        # and the bystander finishes its round
        board = solve(bystander, round_, answer_of(server, round_["round_id"]), after)
        done = bystander.move(round_["round_id"], board["version"], "submit")
        assert done["ok"] and done["result"]["round_id"] == round_["round_id"], done
        assert bystander.wait_for("round_ended")["score"] == done["result"]["score"]
        assert server.stored_round(round_["round_id"]).result["score"] == done["result"]["score"]
    finally:
        for p in [bystander, host, guest] + [h.player for h in hostiles]:
            p.close()


@pytest.mark.parametrize("name", sorted(RESERVED))
def test_reserved_event_names_are_refused(server, name):
    """A client sending an event named like Socket.IO's own is refused like any unknown event,
    and its connection is as it was: it has still said hello."""
    player = Player(server, "Reserved")
    try:
        reply = player.call(name, {"x": 1}, timeout=5)
        assert isinstance(reply, dict) and reply["error"]["code"] == "unknown_event", reply
        assert player.wait_for("error", where=lambda e: e["event"] == name)["code"] == "unknown_event"  # pushed too
        assert player.call("calibrate", {"offset_ms": 0})["ok"]
    finally:
        player.close()
