"""Soak: many players play Sort rounds against one server for minutes; nothing acknowledged may be
lost, and the server's memory should stay flat.

Run: `.venv/bin/python bench/soak.py [minutes=3] [players=20]`. Starts its own server process
(tests/server.py's ServerProcess: a free loopback port, a temp dir with its own SQLite file), then
N python-socketio clients, one thread each, play solo slices-0 rounds in a loop: start a round,
place every clip where the server's own database says it goes (as the tests' referee does), submit,
and record the acknowledged result (round id and score). Figures printed at the end:

- rounds completed, results acknowledged, and results found in the database: each acknowledged
  round id exactly once in `results`, with the same score (read with sqlite3, beside the server);
- rounds per second (composing a new piece for every round is usually what bounds it);
- the server process's RSS after the warm-up and at the end, and the growth in MB and per cent
  (the server's own process: its composer child process is not counted).

Exit code 1 if an acknowledged result is missing, duplicated or has another score in the database;
2 if a player failed (an exception, e.g. an unanswered event). Bounded: a deadline, at most
MAX_ROUNDS rounds a player, a timeout on every event; it stops by itself and kills its server.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.server import Player, ServerProcess  # noqa: E402

WARMUP_S = 30.0  # RSS is first read this long after the players started (or at half time, if shorter)
MAX_ROUNDS = 10_000  # per player
EVENT_TIMEOUT_S = 30.0
EVENTS_PER_S = 25.0  # per player, under the server's limit (30 a second): a refusal for the rate is not what is soaked


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


class Soaker(threading.Thread):
    """One player: rounds in a loop until the deadline; keeps every acknowledged result."""

    def __init__(self, server: ServerProcess, index: int, deadline: float):
        super().__init__(name=f"soak-{index}", daemon=True)
        self.server, self.index, self.deadline = server, index, deadline
        self.started = self.completed = 0
        self.acked: list[tuple[str, int]] = []  # (round_id, score) of every acknowledged result
        self.refusals: Counter = Counter()
        self.failure: str | None = None
        self.last_event = 0.0
        self.finished_at = 0.0  # monotonic time of the last round's end

    def pace(self) -> None:
        time.sleep(max(0.0, self.last_event + 1 / EVENTS_PER_S - time.monotonic()))
        self.last_event = time.monotonic()

    def run(self) -> None:
        player = None
        try:
            player = Player(self.server, f"Soak{self.index}")
            # read-only, beside the server: the answer is in the round's setup (see `answer`)
            db = sqlite3.connect(f"file:{self.server.db}?mode=ro", uri=True, timeout=30)
            room = player.call("create_room", {"game": "sort", "mode": "solo", "ladder": "slices", "level": 0})
            assert room["ok"], room
            while time.monotonic() < self.deadline and self.started < MAX_ROUNDS:
                self.play_round(player, db)
            self.finished_at = time.monotonic()
        except Exception as exc:  # reported, and the exit code says so
            self.failure = f"{type(exc).__name__}: {exc}"
        finally:
            if player is not None:
                player.close()

    def play_round(self, player: Player, db: sqlite3.Connection) -> None:
        self.pace()
        started = player.call("start_round", {}, timeout=EVENT_TIMEOUT_S)
        if not started["ok"]:
            self.refusals[started["error"]["code"]] += 1
            assert started["error"]["code"] == "composer_busy", started  # busy: the pool is behind, try again
            time.sleep(0.5)
            return
        self.started += 1
        round_ = started["round"]
        round_id, version = round_["round_id"], round_["board"]["version"]
        for slot, clip in enumerate(answer(db, round_id)):
            self.pace()
            reply = player.move(round_id, version, "place", clip=clip, slot=slot)
            assert reply["ok"], reply
            version = reply["board"]["version"]
        self.pace()
        done = player.move(round_id, version, "submit")
        assert done["ok"], done
        self.completed += 1
        result = done.get("result") or {}
        if isinstance(result.get("round_id"), str) and isinstance(result.get("score"), int):
            self.acked.append((result["round_id"], result["score"]))
        while not player.events.empty():  # nobody reads the pushed events: keep this client flat too
            player.events.get_nowait()
        player.seen.clear()


def answer(db: sqlite3.Connection, round_id: str) -> list[str]:
    """The round's answer from its stored setup (committed before the start's ack)."""
    row = db.execute("SELECT setup FROM rounds WHERE id = ?", (round_id,)).fetchone()
    assert row is not None, f"round {round_id} was acknowledged but not stored"
    return json.loads(row[0])["answer"]


def check_database(db_path: Path, acked: list[tuple[str, int]]) -> dict[str, int]:
    """Each acknowledged round id once in `results`, with its acknowledged score."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    stored: dict[str, list[int]] = {}
    for round_id, score in db.execute("SELECT round_id, score FROM results"):
        stored.setdefault(round_id, []).append(score)
    acked_ids = Counter(round_id for round_id, _ in acked)
    return {
        "found": sum(1 for round_id, _ in acked if len(stored.get(round_id, [])) == 1),
        "missing": sum(1 for round_id, _ in acked if round_id not in stored),
        "duplicated": sum(1 for round_id, _ in acked if len(stored.get(round_id, [])) > 1) + sum(n - 1 for n in acked_ids.values()),
        "wrong_score": sum(1 for round_id, score in acked if round_id in stored and stored[round_id] != [score]),
        "in_table": sum(len(v) for v in stored.values()),
    }


def main(minutes: float = 3.0, players: int = 20) -> int:
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        server = ServerProcess(Path(tmp), extra_env={"MAX_CONNECTIONS_PER_ADDRESS": "0"}).start(timeout=180)  # every player is 127.0.0.1
        try:
            pid = server.process.pid
            print(f"soak: {players} players, {minutes:g} min, server pid {pid} on {server.url}", flush=True)
            t0 = time.monotonic()
            deadline = t0 + minutes * 60
            soakers = [Soaker(server, i, deadline) for i in range(players)]
            for soaker in soakers:
                soaker.start()
            warmup_at = min(WARMUP_S, minutes * 30)
            time.sleep(max(0.0, t0 + warmup_at - time.monotonic()))
            rss_warm = rss_mb(pid)
            peak = rss_warm
            while time.monotonic() < deadline:
                time.sleep(min(5.0, max(0.0, deadline - time.monotonic())))
                peak = max(peak, rss_mb(pid))
            for soaker in soakers:
                soaker.join(timeout=EVENT_TIMEOUT_S * 8)
            elapsed = max(s.finished_at for s in soakers) - t0 if all(s.finished_at for s in soakers) else time.monotonic() - t0
            rss_end = rss_mb(pid)
            peak = max(peak, rss_end)
            alive = server.process.poll() is None
        finally:
            server.stop()

        acked = [result for soaker in soakers for result in soaker.acked]
        refusals = sum((soaker.refusals for soaker in soakers), Counter())
        failures = [f"{soaker.name}: {soaker.failure}" for soaker in soakers if soaker.failure]
        db = check_database(server.db, acked)
        growth = rss_end - rss_warm
        print(f"rounds started        {sum(s.started for s in soakers)}")
        print(f"rounds completed      {sum(s.completed for s in soakers)}")
        print(f"results acknowledged  {len(acked)}")
        print(f"results in database   {db['found']} of them exactly once with the same score "
              f"(missing {db['missing']}, duplicated {db['duplicated']}, other score {db['wrong_score']}; {db['in_table']} rows in all)")
        print(f"rounds per second     {len(acked) / elapsed:.2f}  ({elapsed:.0f} s)")
        print(f"refusals              {dict(refusals) or 'none'}")
        print(f"server RSS            warm-up ({warmup_at:.0f} s) {rss_warm:.1f} MB, end {rss_end:.1f} MB, "
              f"growth {growth:+.1f} MB ({100 * growth / rss_warm:+.1f} %), peak {peak:.1f} MB")
        print(f"server alive at end   {alive}")
        for failure in failures:
            print(f"FAILED {failure}")
        if not alive:
            print(server.log.read_text(errors="replace")[-3000:] if server.log.exists() else "")
        if db["missing"] or db["duplicated"] or db["wrong_score"]:
            return 1
        return 2 if failures or not alive else 0


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(main(float(args[0]) if args else 3.0, int(args[1]) if len(args) > 1 else 20))
