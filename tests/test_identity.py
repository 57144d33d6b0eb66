"""Who a player is and what one address may do: names as people will read them on a leaderboard,
tokens that expire and move forward with every hello, one player per connection, the newest
connection playing, and the per-address caps on connections and wrong room codes."""

from __future__ import annotations

import time

import pytest
import socketio
from itsdangerous import URLSafeSerializer

from game_server.app import services_of
from game_server.config import Config
from game_server.protocol import Hello, ProtocolError, parse
from game_server.rooms import UNDATED_TOKENS_ISSUED, Tokens

from .server import InProcessClient, ServerProcess, disconnect, in_process_app


@pytest.mark.parametrize("sent, kept", [("Ada", "Ada"), ("  Bob  ", "Bob"), ("ｆｕｌｌ", "full"), ("Zoë & Al", "Zoë & Al"), ("x" * 24, "x" * 24)])
def test_names_are_normalized(sent, kept):
    assert parse(Hello, {"name": sent}).name == kept


@pytest.mark.parametrize("name", ["\u200b", "a\u202eb", "x\x00", "a\nb", "   ", "\ufeff", "x" * 25, "ｘ" * 25])
def test_invisible_control_blank_or_long_names_are_refused(name):
    with pytest.raises(ProtocolError) as refused:
        parse(Hello, {"name": name})
    assert refused.value.code == "bad_payload" and refused.value.message.startswith("name:")


def test_a_refused_name_leaves_nothing_stored_and_the_connection_usable(app):
    player = InProcessClient(app, "Cy")
    assert player.call("hello", {"name": "Cy\u202e", "token": player.hello["token"]})["error"]["code"] == "bad_payload"
    assert player.call("hello", {"name": "Cy", "token": player.hello["token"]})["ok"]
    with services_of(app).storage.engine.connect() as db:
        names = [row[0] for row in db.exec_driver_sql("SELECT name FROM players")]
    assert names == ["Cy"]


# --- tokens: an issue time, a lifetime, a fresh one every hello -----------------------------------

DAY = 86400.0


class Clock:
    """The tokens' clock, moved by the test: no sleeping for days."""

    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def signed(app, data) -> str:
    """Anything signed as the app signs tokens (its secret, its salt)."""
    return URLSafeSerializer(app.config["SECRET_KEY"], salt="melody-arcade.player").dumps(data)


def issued(app, token: str) -> float:
    return URLSafeSerializer(app.config["SECRET_KEY"], salt="melody-arcade.player").loads(token)["issued"]


def test_a_token_past_its_lifetime_is_refused_and_one_within_it_accepted(app):
    tokens = services_of(app).tokens
    now = time.time()
    assert tokens.lifetime == 30 * DAY  # the default (TOKEN_LIFETIME_DAYS)
    ada = InProcessClient(app, "Ada")
    tokens.clock = Clock(now - 31 * DAY)
    old = tokens.issue(ada.player_id)
    tokens.clock = Clock(now - 29 * DAY)
    recent = tokens.issue(ada.player_id)
    tokens.clock = time.time
    ada.sio.disconnect()

    back = InProcessClient(app, None)
    refused = back.call("hello", {"name": "Ada", "token": old})
    assert refused["ok"] is False and refused["error"]["code"] == "token_expired"
    assert "30 days" in refused["error"]["message"]
    assert back.call("hello", {"name": "Ada", "token": recent})["player_id"] == ada.player_id
    fresh = InProcessClient(app, None)
    assert fresh.call("hello", {"name": "Ada", "token": old})["error"]["code"] == "token_expired"
    new = fresh.call("hello", {"name": "Ada"})  # what the page does then: a new player, same name
    assert new["ok"] and new["player_id"] != ada.player_id


def test_every_hello_moves_the_token_forward(app):
    """A player who keeps coming back keeps a valid token: each hello's token is issued then, and
    the one before it still expires on its own day."""
    tokens = services_of(app).tokens
    clock = tokens.clock = Clock(time.time())
    player = InProcessClient(app, "Bo")
    first = player.hello["token"]
    assert issued(app, first) == int(clock.now)
    clock.now += 20 * DAY
    second = player.call("hello", {"name": "Bo", "token": first})["token"]
    assert issued(app, second) == int(clock.now)
    clock.now += 20 * DAY  # the first is 40 days old now, the second 20
    later = InProcessClient(app, None)
    assert later.call("hello", {"name": "Bo", "token": first})["error"]["code"] == "token_expired"
    assert later.call("hello", {"name": "Bo", "token": second})["player_id"] == player.player_id


def test_tokens_from_before_issue_times_count_as_issued_on_2026_12_04(app):
    """The previous version's tokens carry no issue time: they are taken as issued the day tokens
    got one, accepted (and rotated into a dated one) for a lifetime after it, then expired."""
    tokens = services_of(app).tokens
    undated = signed(app, {"player": "p_0123456789abcdef"})
    tokens.clock = Clock(UNDATED_TOKENS_ISSUED + 29 * DAY)
    reply = InProcessClient(app, None).call("hello", {"name": "Old", "token": undated})
    assert reply["player_id"] == "p_0123456789abcdef" and issued(app, reply["token"]) == int(UNDATED_TOKENS_ISSUED + 29 * DAY)
    tokens.clock = Clock(UNDATED_TOKENS_ISSUED + 31 * DAY)
    assert InProcessClient(app, None).call("hello", {"name": "Old", "token": undated})["error"]["code"] == "token_expired"


@pytest.mark.parametrize("issued_at", ["yesterday", None, True, [1]])
def test_a_signed_token_with_a_bad_issue_time_is_a_bad_token(app, issued_at):
    token = signed(app, {"player": "p_0123456789abcdef", "issued": issued_at})
    assert InProcessClient(app, None).call("hello", {"name": "Odd", "token": token})["error"]["code"] == "bad_token"


def test_a_lifetime_of_zero_never_expires():
    tokens = Tokens("s", lifetime=0, clock=Clock(0.0))
    token = tokens.issue("p_1")
    tokens.clock = Clock(1e12)
    assert tokens.player_of(token) == "p_1"


# --- one connection, one player; the newest connection plays ----------------------------------------


def test_a_connection_cannot_say_hello_as_another_player(app):
    ada, bob = InProcessClient(app, "Ada"), InProcessClient(app, "Bob")
    code = ada.call("create_room", {"game": "sort"})["room"]["code"]
    for hello in ({"name": "Bob", "token": bob.hello["token"]}, {"name": "Ada"}, {"name": "Ada", "token": ""}):
        refused = ada.call("hello", hello)
        assert refused["ok"] is False and refused["error"]["code"] == "already_hello", hello
    again = ada.call("hello", {"name": "Ada", "token": ada.hello["token"]})  # the same player: fine
    assert again["player_id"] == ada.player_id and again["room"]["code"] == code
    assert ada.call("leave_room", {})["ok"] and ada.call("create_room", {"game": "sort"})["room"]["host"] == ada.player_id
    assert bob.connected and not bob.events("session_moved")


def test_a_second_connection_moves_the_session(app):
    first = InProcessClient(app, "Tab")
    code = first.call("create_room", {"game": "sort"})["room"]["code"]
    second = InProcessClient(app, None)
    reply = second.call("hello", {"name": "Tab", "token": first.hello["token"]})
    assert reply["player_id"] == first.player_id and reply["room"]["code"] == code
    assert not first.connected
    moved = [e["args"][0] for e in first.sio.queue if e["name"] == "session_moved"]  # received before the drop
    assert moved == [{"message": "this game is open in another tab or window"}]
    assert not [e for e in first.sio.queue if e["name"] == "taken_over"]  # the old name is gone
    assert second.call("start_round", {})["ok"]


# --- per-address limits -----------------------------------------------------------------------------


def test_connections_past_the_cap_of_one_address_are_refused(tmp_path):
    app = in_process_app(tmp_path, max_connections_per_address=3)
    try:
        services = services_of(app)
        home = [InProcessClient(app, f"Home{i}", address="10.0.0.1") for i in range(3)]
        over = InProcessClient(app, None, address="10.0.0.1")
        assert not over.connected and services.addresses.held("10.0.0.1") == 3 and len(services.connections) == 3
        elsewhere = InProcessClient(app, "Elsewhere", address="10.0.0.2")  # another address has its own count
        assert elsewhere.connected
        home[0].sio.disconnect()
        assert InProcessClient(app, "Home3", address="10.0.0.1").connected  # a closed one makes room
        assert not InProcessClient(app, None, address="10.0.0.1").connected
        for client in home[1:]:
            client.sio.disconnect()
        assert services.addresses.held("10.0.0.1") == 1
    finally:
        services_of(app).storage.close()


def test_no_cap_when_it_is_zero(tmp_path):
    app = in_process_app(tmp_path, max_connections_per_address=0)
    try:
        assert all(InProcessClient(app, None, address="10.0.0.1").connected for _ in range(60))
    finally:
        services_of(app).storage.close()


def test_the_wrong_code_limit_outlives_a_reconnection(app):
    guesser = InProcessClient(app, "Guess", address="10.0.0.7")
    host = InProcessClient(app, "Host", address="10.0.0.8")
    code = host.call("create_room", {"game": "sort", "mode": "coop"})["room"]["code"]
    codes = [guesser.call("join_room", {"code": f"WRONG{i:03d}"})["error"]["code"] for i in range(6)]
    assert codes == ["no_such_room"] * 5 + ["too_many_attempts"]
    guesser.sio.disconnect()
    back = InProcessClient(app, "Guess", address="10.0.0.7")
    assert back.call("join_room", {"code": code})["error"]["code"] == "too_many_attempts"  # a right code too: no more tries
    other = InProcessClient(app, "Other", address="10.0.0.9")
    assert other.call("join_room", {"code": "WRONG999"})["error"]["code"] == "no_such_room"
    assert other.call("join_room", {"code": code})["ok"]


def test_the_limits_are_read_from_the_environment():
    config = Config.from_env({"TOKEN_LIFETIME_DAYS": "7.5", "MAX_CONNECTIONS_PER_ADDRESS": "0", "JOIN_ATTEMPTS_PER_MINUTE": "3", "TRUSTED_PROXIES": "1"})
    assert (config.token_lifetime_days, config.max_connections_per_address, config.join_attempts_per_minute, config.trusted_proxies) == (7.5, 0, 3, 1)
    defaults = Config.from_env({})
    assert (defaults.token_lifetime_days, defaults.max_connections_per_address, defaults.join_attempts_per_minute, defaults.trusted_proxies) == (30.0, 50, 5, 0)


@pytest.mark.slow  # a server process of its own, with a cap of 2
def test_a_refused_connection_learns_why_and_a_trusted_proxy_s_clients_count_apart(tmp_path):
    """Over the cap, Socket.IO's connect_error carries the reason (its message, and data.code);
    the page shows it and does not retry on its own. Behind a trusted proxy (TRUSTED_PROXIES=1)
    each client is counted by the address the proxy forwards, not the proxy's own."""
    from .test_operator import Page

    server = ServerProcess(tmp_path, extra_env={"MAX_CONNECTIONS_PER_ADDRESS": "2", "TRUSTED_PROXIES": "1", "POOL_DEPTH": "0"}).start()  # no round: no pool to fill
    opened: list[socketio.Client] = []

    def connect(forwarded: str | None = None) -> socketio.Client | dict:
        """The connected client, or the connect_error's data when it is refused."""
        client, refusals = socketio.Client(reconnection=False), []
        client.on("connect_error", refusals.append)
        try:
            client.connect(server.url, transports=["websocket"], headers={"X-Forwarded-For": forwarded} if forwarded else {}, wait_timeout=3)  # a refusal waits it out
        except socketio.exceptions.ConnectionError:
            return refusals[0]
        opened.append(client)
        return client

    try:
        direct = [connect(), connect()]
        refused = connect()
        assert refused["data"] == {"code": "too_many_connections", "limit": 2}
        assert refused["message"].startswith("too many connections from your address (at most 2 at once)")
        assert all(isinstance(connect("10.1.1.1"), socketio.Client) for _ in range(2))  # another client behind the proxy
        assert connect("10.1.1.1")["data"]["code"] == "too_many_connections"
        assert isinstance(connect("10.1.1.2"), socketio.Client)

        page = Page(tmp_path, server.url)  # the page, from 127.0.0.1, which holds 2
        try:
            page.send("open", "tab")
            page.wait(tab="tab", report=True, state="idle")
            page.send("start", "tab", name="Third")
            assert page.wait(tab="tab", event="status", detail="refused")
            assert page.wait(tab="tab", event="refused")["detail"]["code"] == "too_many_connections"
            page.quiet(1.5)  # longer than the reconnection delays
            assert page.state("tab") == {"tab": "tab", "report": True, "state": "refused", "connected": False, "active": False}
            direct[0].disconnect()  # one closed: the player tries again, and is in
            time.sleep(0.5)
            page.send("start", "tab", name="Third")
            assert page.wait(tab="tab", event="welcome")
        finally:
            page.close()
    finally:
        for client in opened:
            disconnect(client)
        server.stop()
