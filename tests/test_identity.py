"""Who a player is: names as people will read them on a leaderboard, the same on every database."""

from __future__ import annotations

import pytest

from game_server.protocol import Hello, ProtocolError, parse

from .server import InProcessClient


@pytest.mark.parametrize("sent, kept", [("Ada", "Ada"), ("  Bob  ", "Bob"), ("ｆｕｌｌ", "full"), ("Zoë & Al", "Zoë & Al"), ("x" * 24, "x" * 24)])
def test_names_are_normalized(sent, kept):
    assert parse(Hello, {"name": sent}).name == kept


@pytest.mark.parametrize("name", ["\u200b", "a\u202eb", "x\x00", "a\nb", "   ", "\ufeff", "x" * 25, "ｘ" * 25])
def test_invisible_control_blank_or_long_names_are_refused(name):
    with pytest.raises(ProtocolError) as refused:
        parse(Hello, {"name": name})
    assert refused.value.code == "bad_payload" and refused.value.message.startswith("name:")


def test_a_refused_name_leaves_nothing_stored_and_the_connection_usable(app):
    from game_server.app import services_of

    player = InProcessClient(app, "Cy")
    assert player.call("hello", {"name": "Cy\u202e", "token": player.hello["token"]})["error"]["code"] == "bad_payload"
    assert player.call("hello", {"name": "Cy", "token": player.hello["token"]})["ok"]
    with services_of(app).storage.engine.connect() as db:
        names = [row[0] for row in db.exec_driver_sql("SELECT name FROM players")]
    assert names == ["Cy"]
