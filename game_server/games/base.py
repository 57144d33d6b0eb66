"""The one game interface: what a game gives the server, and what the server does for it.

A game is a folder under `game_server/games/` (its pure rules, and a `Game` on top of them) and
one line in the registry (`games/__init__.py`). The round path (`game_server/rounds.py`) does
what every game shares: the room, seat and round checks, one sequence rule, storing moves and
results, telling the partner, the clock. It asks the game only what is its own:

- `ladders` and `catalog`: its levels, and how people read them (`GET /api/games`);
- `materials` and `start`: what the composer keeps ready for it, and a round made from that (a
  game that is `steered` makes the round from the music the host chose, the start's `music`,
  `story` or `piece`, those it can play; the round path refuses them to the others and stores the
  choice with the round);
- `view`: what a seat sees of a round (the start's reply, `round_started`, a rejoin);
- `moves`: the events it takes during a round, each a payload model and a rule that returns an
  `Outcome` (the reply, the move to store, what the room is told, the result if it ended, and
  whether a person could have played it so: a `flagged` result is stored but not ranked);
- `tick`: for a game with a clock (`clock = True`), what happens as time passes;
- `heard_only`: music its players hear as sound only, for the HTTP route that renders it;
- `unchanging`: the types of a round's parts that never change once it has started (a store
  that copies rooms between processes keeps those once, not with every move);
- `tools`: requests it answers outside any round (Beat Blender's instrument: a grid, presets, a
  MIDI file), each a `Tool` (a payload model and `answer(payload, compose)`), which
  `game_server/http.py` serves at `POST /api/games/<game>/<tool>` for every game alike. `compose`
  runs a material request (a frozen dataclass with `compose(composer, seed)`) in the composer
  processes now, with no queue kept for it (PiecePool.compose_now), and returns its `Composed`;
  a tool refuses a payload its model passes but its rules do not by raising `Refused`.

The lifecycle is Colyseus' Room's (create, join, message, tick, leave) with the rules kept out of
the shell: nothing here knows Socket.IO, Flask or the database.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel

from music import Piece

from ..protocol import ProtocolError, StartRound


class Refused(Exception):
    """A move that breaks a game's rule: `code` for programs, `reason` for people. A game's rules
    raise it (or their own subclass); the game's glue turns it into the protocol's refusal."""

    def __init__(self, code: str, reason: str):
        super().__init__(f"{code}: {reason}")
        self.code, self.reason = code, reason


def new_round_id() -> str:
    return "r_" + uuid.uuid4().hex[:16]


def heard_only_token() -> str:
    """The secret part of the address of music heard only (`Game.heard_only`): 128 random bits,
    so an address cannot be guessed, only learnt from what the game sent."""
    return secrets.token_urlsafe(16)


def heard_only_path(round_id: str, token: str) -> str:
    """Where a round's heard-only music is served as a WAV (game_server/http.py's `clip_audio`)."""
    return f"/api/rounds/{round_id}/clips/{token}.wav"


@dataclass
class RoundState:
    """What every live round has; a game's own state adds to it."""

    round_id: str
    level_name: str  # the stored level id: "slices-0", "run-1-duo"
    players: list[str]  # the seats' player ids at the start (the result is theirs)
    names: str  # their names, "Ada & Bob", as the leaderboard shows them
    started: float  # time.time() at the start: wall clock, the same in every process
    moves: int = 0  # moves stored so far (the next one's index)
    result: dict | None = None  # what the players were told when it ended (once its result is stored)
    ending: Any = None  # the Result of a round that has ended but whose result is not stored yet

    def refusal_context(self) -> dict:
        """What every refusal of a move in this live round carries besides its code (Run: the
        round clock's `server_tick`, so that a client can set its clock right whatever it got wrong)."""
        return {}


@dataclass
class Result:
    """A round's end: `public` is what the players see (the `result` of the reply and of
    `round_ended`), `stored` the details kept with the score, `ended` how it ended, for the
    operator's log ("submitted", "goal+fell"), `flagged` the game's plausibility check's reason
    (None: a person could have played it so), which `public` carries as `flagged` too."""

    score: int
    public: dict
    stored: dict
    ended: str
    flagged: str | None = None  # why no person could have played it so: stored and shown, not ranked

    def __post_init__(self) -> None:
        self.public["flagged"] = self.flagged  # every game's result says it, so every page can show it


@dataclass
class Outcome:
    """What a move, or the clock, did. `reply` goes back to the mover; `events` go to the room as
    (name, payload, to_mover) (to_mover False: to everyone but the mover); `result` ends the round."""

    reply: dict = field(default_factory=dict)
    events: list[tuple[str, dict, bool]] = field(default_factory=list)
    result: Result | None = None


@dataclass(frozen=True)
class Checked:
    """A move that its rule accepts, not yet applied: `record` is stored as the move first (None:
    nothing to store, as for a pause), then `apply()` changes the round and says what it did. So
    a move that cannot be stored changes nothing, and nothing acknowledged is lost."""

    record: dict | None
    apply: Callable[[], Outcome]


@dataclass(frozen=True)
class Move:
    """An event a game takes during a round. `rule(state, payload, player_id, coop)` checks it
    under the room's lock, changing nothing, and returns it Checked, or raises ProtocolError.
    `sequenced`: the payload carries `seq`, and a seat's numbers only go up (a resend of the last
    one gets its reply again, marked `duplicate`). `waits_for_partner`: refused with
    `round_paused` while a co-op partner's connection is away."""

    model: type[BaseModel]
    rule: Callable[[Any, Any, str, bool], Checked]
    sequenced: bool = True
    waits_for_partner: bool = True


@dataclass(frozen=True)
class Table:
    """What a round is started with, besides its level: the room's seats and mode, the pool
    (`take(request)` waits for a ready piece and may raise ComposeTimeout), and each player's
    calibrated audio offset."""

    code: str
    players: list[str]
    names: str
    coop: bool
    ladder: str
    take: Callable[[Any], Any]
    offset_of: Callable[[str], int]


@dataclass(frozen=True)
class Started:
    """A new round: its live state, and what is stored of it."""

    state: RoundState
    seed: int
    piece_json: str  # the round's music, for the stored round and its MIDI download
    setup: dict  # what the rules need to replay the stored moves


@dataclass(frozen=True)
class Tool:
    """A request a game answers outside any round, served at `POST /api/games/<game>/<name>`: the
    JSON body is validated by `model` (400 `bad_payload` otherwise), then `answer(payload,
    compose)` returns a dict (sent as JSON) or bytes (sent as `media_type`). `compose(request)` ->
    `Composed` runs a material request in the composer now (ComposeTimeout, ComposerUnavailable:
    503 `composer_busy`, `composer_unavailable`); `Refused(code, reason)` from `answer` is a 400
    with that code."""

    model: type[BaseModel]
    answer: Callable[[Any, Callable[[Any], Any]], dict | bytes]
    media_type: str = "application/json"


class Game:
    """The interface; a game subclasses it. The defaults are a game's without a clock, options or
    room rules."""

    name: ClassVar[str]  # the protocol's `game`: "sort"
    title: ClassVar[str]  # for people: "Sort"
    default_ladder: ClassVar[str]
    moves: ClassVar[dict[str, Move]] = {}
    unchanging: ClassVar[tuple[type, ...]] = ()
    start_model: ClassVar[type[BaseModel]] = StartRound  # start_round's payload in this game
    clock: ClassVar[bool] = False  # True: `tick` is called for its live rounds, ten times a second
    steered: ClassVar[bool] = False  # True: `start` honours a player's music (`music`, `story` or `piece` of the start payload, those it can play)
    tools: ClassVar[dict[str, Tool]] = {}  # requests answered outside any round (POST /api/games/<game>/<tool>)

    def ladders(self) -> dict[str, list]:
        """Ladder name -> its levels, in order."""
        raise NotImplementedError

    def catalog(self) -> dict:
        """The game's entry in `GET /api/games`: its name, ladders and levels as people read them."""
        raise NotImplementedError

    def materials(self) -> list:
        """The requests the composer's pool keeps ready from the start."""
        return []

    def check_level(self, ladder: str, level: int) -> None:
        ladders = self.ladders()
        if ladder not in ladders:
            raise ProtocolError("unknown_ladder", f"{self.name} ladders: {', '.join(ladders)}")
        if level >= len(ladders[ladder]):
            raise ProtocolError("unknown_level", f"the {ladder} ladder has levels 0..{len(ladders[ladder]) - 1}")

    def start(self, table: Table, level: int, options: BaseModel) -> Started:
        raise NotImplementedError

    def view(self, state: RoundState) -> dict:
        raise NotImplementedError

    def heard_only(self, setup: dict, token: str) -> Piece | None:
        """Music of a stored round (its `setup`) that its players may hear but not read, found by
        the unguessable token (`heard_only_token`) a reply or a view gave them at its address
        (`heard_only_path`: GET /api/rounds/<id>/clips/<token>.wav serves it as sound). None for a
        token it never gave; a game without such music has none."""
        return None

    def tick(self, state: RoundState) -> Outcome:
        """A game with a clock: what happened since the last tick."""
        return Outcome()


def levels_for_people(ladder: list, title: Callable[[Any], str], changes: Callable[[Any, Any], list[str]], extra: Callable[[Any], dict] = lambda level: {}) -> list[dict]:
    """A ladder's levels as the lobby lists them: numbered from 1 (the protocol's `level` and the
    stored level ids count from 0), each with its title and what changes from the one before."""
    out = []
    for i, level in enumerate(ladder):
        what = "where it starts" if i == 0 else "; ".join(changes(ladder[i - 1], level) or ["a new piece, the same rules"])
        out.append({"level": i, "number": i + 1, "title": title(level), "name": f"Level {i + 1} — {title(level)}", "changes": what, **extra(level)})
    return out
