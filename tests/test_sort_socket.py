"""Sort over the real socket protocol: a real server process, real python-socketio clients.

The clients never learn the answer from the server; the tests read it from the server's own
database (the same file the server writes), as an all-knowing referee would."""

from __future__ import annotations

import threading

import pytest

from game_server.games.sort import rules as sort

from .server import Player, ServerProcess, answer_of, solve, start_sort

SHARED_SERVER = True  # plays rounds only: one server for such modules (conftest.py)

pytestmark = pytest.mark.timeout(240)


def test_solo_slices_round_to_a_perfect_score(server):
    play_a_perfect_round(server)


@pytest.mark.slow  # a server process of its own
def test_threading_mode_plays_the_same_round(tmp_path):
    """ASYNC_MODE=threading (Werkzeug, a thread per websocket) serves the game as gevent does."""
    server = ServerProcess(tmp_path, extra_env={"ASYNC_MODE": "threading"}).start()
    try:
        assert server.get("/healthz")["async_mode"] == "threading"
        play_a_perfect_round(server)
    finally:
        server.stop()


def play_a_perfect_round(server: ServerProcess) -> None:
    player = Player(server, "Ada")
    try:
        round_ = start_sort(player)
        board = round_["board"]
        assert len(board["slots"]) == 4 and board["slots"] == [None] * 4
        assert all(clip["piece"] is not None for clip in board["clips"].values())
        answer = answer_of(server, round_["round_id"])
        assert set(board["tray"]) == set(answer) and board["tray"] != answer
        listen = player.move(round_["round_id"], board["version"], "listen_clip", clip=board["tray"][0])
        assert listen["ok"] and listen["clip"]["piece"]["bars"] == 2
        board = solve(player, round_, answer, listen["board"])
        done = player.move(round_["round_id"], board["version"], "submit")
        assert done["ok"] and done["result"]["score"] == 1000, done
        assert player.wait_for("round_ended")["score"] == 1000
        stored = server.get(f"/api/rounds/{round_['round_id']}")
        assert stored["result"]["score"] == 1000 and stored["answer"] == answer
        midi = server.get(f"/api/rounds/{round_['round_id']}/piece.mid")
        assert midi[:4] == b"MThd"
        wav = server.get(f"/api/rounds/{round_['round_id']}/piece.wav")  # rendered off gevent's loop (game_server/downloads.py)
        assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"
    finally:
        player.close()


def test_piece_is_not_downloadable_before_the_round_ends(server):
    player = Player(server, "Peek")
    try:
        round_ = start_sort(player)
        server.stored_round(round_["round_id"])  # committed just after the start's ack: until then, 404
        with pytest.raises(Exception, match="403"):
            server.get(f"/api/rounds/{round_['round_id']}/piece.mid")
        assert "answer" not in server.get(f"/api/rounds/{round_['round_id']}")
    finally:
        player.close()


def test_solo_morph_round_with_hidden_clips(server):
    player = Player(server, "Bea")
    try:
        round_ = start_sort(player, ladder="morph", level=5)
        board = round_["board"]
        assert len(board["slots"]) == 10 and len(board["fixed"]) == 5
        hidden = [c for c in board["tray"] if board["clips"][c]["hidden"]]
        assert hidden == board["tray"] and all(board["clips"][c]["piece"] is None for c in hidden)
        heard = player.move(round_["round_id"], board["version"], "listen_clip", clip=hidden[0])
        assert heard["ok"] and "piece" not in heard["clip"]  # heard, not read: a sound's address
        assert server.get(heard["clip"]["audio"])[:4] == b"RIFF"
        board = solve(player, round_, answer_of(server, round_["round_id"]), heard["board"])
        done = player.move(round_["round_id"], board["version"], "submit")
        assert done["ok"] and done["result"]["details"]["tau"] == 1.0
    finally:
        player.close()


def test_coop_round_with_races_ends_the_same_for_both(server):
    host, guest = Player(server, "Host"), Player(server, "Guest")
    try:
        round_ = start_sort(host, level=2, mode="coop", partner=guest)
        assert guest.wait_for("round_started")["round_id"] == round_["round_id"]
        answer = answer_of(server, round_["round_id"])
        board = round_["board"]
        # A deliberate race: both move on the same version at the same moment.
        replies = {}
        barrier = threading.Barrier(2)

        def race(player, slot):
            barrier.wait()
            replies[player.player_id] = player.move(round_["round_id"], board["version"], "place", clip=answer[slot], slot=slot)

        threads = [threading.Thread(target=race, args=(host, 0)), threading.Thread(target=race, args=(guest, 1))]
        [t.start() for t in threads]
        [t.join() for t in threads]
        outcomes = sorted(r["ok"] for r in replies.values())
        assert outcomes == [False, True], replies
        loser = next(r for r in replies.values() if not r["ok"])
        assert loser["error"]["code"] == "stale_board" and loser["error"]["board"]["version"] == board["version"] + 1
        # Then they take turns, each on the board the other's move produced.
        version = loser["error"]["board"]["version"]
        slots = loser["error"]["board"]["slots"]
        players = [host, guest]
        for i, (slot, clip) in enumerate(enumerate(answer)):
            if slots[slot] is None:
                reply = players[i % 2].move(round_["round_id"], version, "place", clip=clip, slot=slot)
                assert reply["ok"], reply
                version = reply["board"]["version"]
        final = guest.move(round_["round_id"], version, "submit")
        assert final["ok"]
        assert host.wait_for("board", where=lambda d: d["move"] == "submit")["board"] == final["board"]
        assert not any(d["by"] == guest.player_id for e, d in guest.seen if e == "board")  # the ack had it
        assert not any(e == "round_started" for e, _ in host.seen)  # so had the start's reply
        ended = [p.wait_for("round_ended") for p in players]  # pushed after the last board
        assert ended[0] == ended[1] and ended[0]["score"] == final["result"]["score"]
    finally:
        host.close()
        guest.close()


def test_resent_move_is_not_applied_twice(server):
    player = Player(server, "Twice")
    try:
        round_ = start_sort(player)
        clip = round_["board"]["tray"][0]
        first = player.move(round_["round_id"], 0, "place", clip=clip, slot=0, seq=7)
        again = player.move(round_["round_id"], 0, "place", clip=clip, slot=0, seq=7)
        assert first["ok"] and again["ok"] and again["duplicate"] is True
        assert again["board"]["version"] == first["board"]["version"] == 1
        older = player.move(round_["round_id"], 1, "listen_board", seq=3)
        assert older["error"]["code"] == "old_seq"
    finally:
        player.close()


def test_reconnect_in_the_middle_of_a_round(server):
    player = Player(server, "Cleo")
    round_ = start_sort(player)
    answer = answer_of(server, round_["round_id"])
    reply = player.move(round_["round_id"], 0, "place", clip=answer[0], slot=0)
    assert reply["ok"]
    token = player.token
    player.close()
    back = Player(server, "Cleo", token=token)
    try:
        assert back.player_id == player.player_id
        assert back.hello["round"]["round_id"] == round_["round_id"]
        board = back.hello["round"]["board"]
        assert board["slots"][0] == answer[0] and board["version"] == 1
        back.seq = player.seq
        board = solve(back, back.hello["round"], answer)
        done = back.move(round_["round_id"], board["version"], "submit")
        assert done["ok"] and done["result"]["score"] > 0
    finally:
        back.close()


def test_forged_token_is_refused(server):
    player = Player(server, "Real")
    try:
        forged = player.token[:-4] + ("AAAA" if not player.token.endswith("AAAA") else "BBBB")
        other = Player.__new__(Player)
        import socketio as sio_mod

        other.sio = sio_mod.Client(reconnection=False)
        other.sio.connect(server.url, transports=["websocket"])
        reply = other.sio.call("hello", {"name": "Mallory", "token": forged}, timeout=10)
        assert reply["error"]["code"] == "bad_token"
        other.close()
    finally:
        player.close()


def test_replay_of_a_stored_round_gives_the_same_score(server):
    player = Player(server, "Dana")
    try:
        round_ = start_sort(player)
        answer = answer_of(server, round_["round_id"])
        board = round_["board"]
        # a deliberately imperfect game: two clips swapped, some listens
        order = [answer[1], answer[0], *answer[2:]]
        for slot, clip in enumerate(order):
            board = player.move(round_["round_id"], board["version"], "place", clip=clip, slot=slot)["board"]
        player.move(round_["round_id"], board["version"], "listen_board")
        board = player.move(round_["round_id"], board["version"] + 1, "submit")
        live = board["result"]["score"]
        stored = server.stored_round(round_["round_id"])
        moves = [(sort.Move(**m["payload"]), m["at"]) for m in stored.moves]
        assert sort.replay(stored.setup, moves).score == live == stored.result["score"]
        assert live < 1000
    finally:
        player.close()


@pytest.mark.slow  # a server process of its own
def test_coop_partner_drop_pauses_the_round_then_it_goes_on_alone(tmp_path):
    proc = ServerProcess(tmp_path, extra_env={"GRACE_SECONDS": "6"}).start()
    host, guest = Player(proc, "Stays"), Player(proc, "Drops")
    try:
        round_ = start_sort(host, mode="coop", partner=guest)
        guest.close()
        away = host.wait_for("partner_away")
        assert away == {"player_id": guest.player_id, "grace_seconds": 6.0}
        paused = host.move(round_["round_id"], 0, "listen_board")
        assert paused["error"]["code"] == "round_paused"
        gone = host.wait_for("partner_gone", timeout=20)
        assert gone["player_id"] == guest.player_id
        board = solve(host, round_, answer_of(proc, round_["round_id"]))
        done = host.move(round_["round_id"], board["version"], "submit")
        assert done["ok"] and done["result"]["score"] > 0
        names = proc.get("/api/leaderboard?game=sort")["results"][0]["names"]
        assert names == "Stays & Drops"
    finally:
        host.close()
        proc.stop()
