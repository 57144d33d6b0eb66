"""The baseline for bench/realtime.py: a bare Socket.IO server in the same stack, async mode and
settings as the game server (Flask-SocketIO and simple-websocket; gevent's pywsgi, or Werkzeug
with ASYNC_MODE=threading; TCP_NODELAY; handlers run on the connection's own greenlet or thread,
the JSON-only packet) whose only handler acks every event with its own payload, registered on
python-socketio's server as the game's handlers are. `python bench/echo_server.py PORT`."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from game_server.config import Config

ASYNC_MODE = Config.from_env().async_mode
if ASYNC_MODE == "gevent":  # as `python -m game_server serve` does, before anything else loads
    from gevent import monkey

    monkey.patch_all()

from flask import Flask  # noqa: E402
from flask_socketio import SocketIO  # noqa: E402

from game_server.app import no_delay, serve_forever  # noqa: E402
from game_server.transport import JsonPacket  # noqa: E402

app = Flask(__name__)
socketio = SocketIO(app, async_mode=ASYNC_MODE, async_handlers=False, serializer=JsonPacket)
app.wsgi_app = no_delay(app.wsgi_app)


def echo(event, sid, data=None):
    return {"ok": True, "echo": data}


socketio.server.on("*", echo)


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


if __name__ == "__main__":
    serve_forever(app, socketio, "127.0.0.1", int(sys.argv[1]), log_output=False)
