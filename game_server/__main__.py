"""Command line: `python -m game_server serve` (and more subcommands as the parts arrive)."""

from __future__ import annotations

import argparse
import logging
import sys

from .app import create_app, socketio_of
from .config import Config


def serve(args: argparse.Namespace) -> int:
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    config = Config.from_env().with_overrides(**overrides)
    app = create_app(config)
    logging.getLogger("game_server").info("serving on http://%s:%d", config.host, config.port)
    socketio_of(app).run(app, host=config.host, port=config.port, allow_unsafe_werkzeug=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m game_server", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="serve the game over HTTP and websockets")
    serve_cmd.add_argument("--host", help="address to listen on (default: $HOST or 127.0.0.1)")
    serve_cmd.add_argument("--port", type=int, help="port to listen on (default: $PORT or 5000)")
    serve_cmd.set_defaults(func=serve)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
