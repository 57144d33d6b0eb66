"""The games and their levels as people read them: the lobby's lists, the names the page shows,
and what each level changes from the one before. Levels are numbered from 1 here; the protocol's
`level` field and the stored level ids (`slices-0`, `run-1-duo`) count from 0."""

from __future__ import annotations

from . import run, sort

LADDER_NAMES = {"slices": "Slices", "morph": "Morph", "run": "Run"}


def sort_level_title(level: sort.SortLevel) -> str:
    if level.mode == "slices":
        hidden = f", {level.hidden} heard only" if level.hidden else ""
        return f"{level.clips} clips, {level.bars} bars{hidden}"
    fixed = f", {level.fixed} fixed in the middle" if level.fixed else ""
    hidden = ", listen only (no notes shown)" if level.hidden == "all" else ""
    return f"{level.clips} steps from one tune to another{fixed}{hidden}"


def run_level_title(level: run.RunLevel) -> str:
    lanes = "melody + chords" if level.chords else "melody"
    faster = f", {round(100 * (level.tempo_scale - 1))} % faster" if level.tempo_scale > 1 else ""
    denser = f", at least {level.min_notes_per_bar:g} notes a bar" if level.min_notes_per_bar else ""
    return f"{level.bars} bars, {lanes}{faster}{denser}"


def _sort_changes(before: sort.SortLevel, level: sort.SortLevel) -> list[str]:
    changes = []
    if level.clips != before.clips:
        changes.append(f"{level.clips} clips instead of {before.clips}")
    if level.bars != before.bars and level.mode == "slices":
        changes.append(f"{level.bars} bars instead of {before.bars}")
    if level.fixed != before.fixed:
        changes.append(f"{level.fixed} fixed in the middle instead of {before.fixed}")
    if level.hidden != before.hidden:
        changes.append("every option heard only" if level.hidden == "all" else f"{level.hidden} clips heard only, no notes shown")
    return changes or ["a new piece, the same rules"]


def _run_changes(before: run.RunLevel, level: run.RunLevel) -> list[str]:
    changes = []
    if level.chords and not before.chords:
        changes.append("a second lane: the chord roots")
    if level.bars != before.bars:
        changes.append(f"{level.bars} bars instead of {before.bars}")
    if level.tempo_scale != before.tempo_scale:
        changes.append(f"{round(100 * (level.tempo_scale - 1))} % faster")
    if level.min_notes_per_bar != before.min_notes_per_bar:
        changes.append("denser melodies")
    if level.max_leap != before.max_leap:
        changes.append("leaps of any size" if level.max_leap is None else f"leaps of up to {level.max_leap} semitones")
    return changes or ["a new piece, the same rules"]


def _levels(ladder, title, changes, extra=lambda level: {}) -> list[dict]:
    out = []
    for i, level in enumerate(ladder):
        what = "where it starts" if i == 0 else "; ".join(changes(ladder[i - 1], level))
        out.append({"level": i, "number": i + 1, "title": title(level), "name": f"Level {i + 1} — {title(level)}", "changes": what, **extra(level)})
    return out


def catalog() -> dict:
    """Every game, its ladders and their levels, for `/api/games`."""
    return {
        "games": [
            {
                "game": "sort",
                "name": "Sort",
                "ladders": [
                    {"ladder": name, "name": LADDER_NAMES[name], "levels": _levels(ladder, sort_level_title, _sort_changes)}
                    for name, ladder in sorted(sort.LADDERS.items(), key=lambda item: item[0] != "slices")  # the first ladder first
                ],
            },
            {
                "game": "run",
                "name": "Run",
                "rules": run.client_rules(),  # the physics and judging numbers the page plays by
                "ladders": [
                    {"ladder": "run", "name": LADDER_NAMES["run"], "levels": _levels(run.LADDER, run_level_title, _run_changes, lambda level: {"coop": level.chords})}
                ],
            },
        ]
    }
