"""The lobby's event payloads (docs/protocol.md) and the error shape every refusal uses; each
game's own payloads live with the game (games/<game>/game.py), built on `Strict`.

Each client event is validated here before any handler logic runs: strict types, no unknown
fields, bounded strings. A failure becomes ProtocolError("bad_payload", "<field>: <problem>").
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from models.describe import MAX_DESCRIPTION, Interpretation, interpret
from models.options import DENSITIES, GROOVES, MAX_SECTION_BARS, MAX_SECTIONS, METERS, MIN_SECTION_BARS, MODES, STYLES, TEMPO_LIMITS, MusicOptions, Section
from music import DRUM_KITS, Piece, PieceFormatError, piece_from_dict


def person_name(name: str) -> str:
    """A name as people will read it on a leaderboard, the same on every database: Unicode NFKC,
    and no control or format character (NUL, newlines, right-to-left overrides, zero-width
    spaces), so that a name cannot be blank, invisible, or turn the text after it around."""
    name = unicodedata.normalize("NFKC", name).strip()
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs", "Cn") for ch in name):
        raise ValueError("a name has letters, digits, spaces and punctuation only (no control or invisible characters)")
    if not name:
        raise ValueError("a name is not blank")
    if len(name) > MAX_NAME:
        raise ValueError(f"a name is at most {MAX_NAME} characters")
    return name


MAX_NAME = 24
MAX_SECTION_NAME = 40
MAX_OWN_BARS = 16
Name = Annotated[str, StringConstraints(max_length=4 * MAX_NAME), AfterValidator(person_name)]
MAX_EVENT_BYTES = 16 * 1024


class ProtocolError(Exception):
    """A refusal: `code` for programs (docs/protocol.md lists them), `message` for people."""

    def __init__(self, code: str, message: str, **extra: Any):
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.extra = code, message, extra

    def reply(self) -> dict:
        return {"ok": False, "error": {"code": self.code, "message": self.message, **self.extra}}


class Strict(BaseModel):
    """Every payload model: strict types, no unknown fields."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Hello(Strict):
    name: Name
    token: str | None = Field(default=None, max_length=512)


class LeaveRoom(Strict):
    """No fields: `{}`, or no payload at all."""


class Resync(Strict):
    """No fields: `{}`, or no payload at all."""


class CreateRoom(Strict):
    game: str = Field(max_length=16)  # a game of the registry (GET /api/games)
    mode: Literal["solo", "coop"] = "solo"
    ladder: str | None = Field(default=None, max_length=16)  # one of the game's ladders; None: its first
    level: int = Field(default=0, ge=0, le=99)


class JoinRoom(Strict):
    code: str = Field(min_length=1, max_length=16)


class InstrumentsChoice(Strict):
    """General MIDI programs for the pitched parts, and a GM drum kit (music/instruments.py)."""

    melody: int = Field(default=73, ge=0, le=127)
    chords: int = Field(default=0, ge=0, le=127)
    bass: int = Field(default=33, ge=0, le=127)
    drums: Literal[tuple(DRUM_KITS)] = 0  # type: ignore[valid-type]


class MusicChoice(Strict):
    """The music of a round as a player chose it (models/options.py says what each does); unset
    fields are the style's own. `seed`: the same choice and seed give the same piece (the studio's
    "play this" starts a round on the piece the player heard)."""

    style: Literal[STYLES] = "irish"  # type: ignore[valid-type]
    mood: Literal[MODES] | None = None  # type: ignore[valid-type]
    tempo: int | None = Field(default=None, ge=TEMPO_LIMITS[0], le=TEMPO_LIMITS[1])
    meter: Literal[METERS] = "4/4"  # type: ignore[valid-type]
    key: int | None = Field(default=None, ge=0, le=11)
    density: Literal[DENSITIES] | None = None  # type: ignore[valid-type]
    groove: Literal[GROOVES] | None = None  # type: ignore[valid-type]
    instruments: InstrumentsChoice = Field(default_factory=InstrumentsChoice)
    seed: int | None = Field(default=None, ge=0, le=2**53)

    def options(self) -> MusicOptions:
        return MusicOptions.from_dict(self.model_dump(exclude={"seed"}))


def chosen_options(description: str | None, music: MusicChoice | None) -> tuple[MusicOptions, Interpretation | None]:
    """Options from a description's words (models/describe.py), overridden field by field by what
    the player set by hand (`music`'s fields given; its seed is not an option), and the reading."""
    heard = interpret(description) if description else None
    options = heard.options.as_dict() if heard else MusicOptions().as_dict()
    if music is not None:
        options.update(music.model_dump(include=music.model_fields_set - {"seed"}))
    return MusicOptions.from_dict(options), heard


class SectionChoice(Strict):
    """A story's section: described in words (models/describe.py reads them), chosen as `music`
    (whose fields, where given, win over the description's), or both; `name` is what the page
    shows as it arrives (default: the description's first words)."""

    name: str | None = Field(default=None, max_length=MAX_SECTION_NAME)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    music: MusicChoice | None = None
    bars: int = Field(default=4, ge=MIN_SECTION_BARS, le=MAX_SECTION_BARS)

    def section(self, index: int) -> tuple[Section, Interpretation | None]:
        options, heard = chosen_options(self.description, self.music)
        name = self.name or (" ".join(self.description.split()[:5])[:MAX_SECTION_NAME] if self.description else f"section {index + 1}")
        return Section(name, options, self.bars), heard


class StoryChoice(Strict):
    """Story mode: sections composed as one piece that changes as it goes (models/story.py)."""

    sections: list[SectionChoice] = Field(min_length=1, max_length=MAX_SECTIONS)
    seed: int | None = Field(default=None, ge=0, le=2**53)

    def story(self) -> tuple[tuple[Section, ...], list[dict]]:
        """The sections, and what was understood of each description (for the page to show)."""
        read = [choice.section(i) for i, choice in enumerate(self.sections)]
        return tuple(section for section, _ in read), [{"name": s.name, **({"heard": h.as_dict()} if h else {})} for s, h in read]


class StartRound(Strict):
    """A game with start options extends this (Run: `lanes`). `music`: the round's music as the
    host chose it; `story`: a story of sections instead (None for both: the pool's ready pieces,
    drawn as the game's levels ask)."""

    level: int | None = Field(default=None, ge=0, le=99)
    music: MusicChoice | None = None
    story: StoryChoice | None = None
    piece: dict | None = None  # the player's own piece (the studio's "play this"): Piece JSON, 2..16 bars

    @model_validator(mode="after")
    def _one_music(self) -> StartRound:
        if sum(choice is not None for choice in (self.music, self.story, self.piece)) > 1:
            raise ValueError("a round has one of chosen music, a story or a piece, not two")
        return self

    def own_piece(self) -> Piece | None:
        """The `piece`, checked (ProtocolError `bad_piece`); None when none was given."""
        if self.piece is None:
            return None
        try:
            piece = piece_from_dict(self.piece)
        except PieceFormatError as exc:
            raise ProtocolError("bad_piece", str(exc)) from None
        if not 2 <= piece.bars <= MAX_OWN_BARS or not piece.melody:
            raise ProtocolError("bad_piece", f"a round's own piece has 2..{MAX_OWN_BARS} bars and a melody")
        return piece


class Calibrate(Strict):
    offset_ms: int = Field(ge=-250, le=250)


def parse(model: type[BaseModel], data: Any) -> BaseModel:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ProtocolError("bad_payload", f"the payload must be an object, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "payload"
        raise ProtocolError("bad_payload", f"{where}: {first['msg']}") from None
