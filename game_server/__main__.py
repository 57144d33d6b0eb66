"""Command line: `python -m game_server serve` (and more subcommands as the parts arrive)."""

from __future__ import annotations

import argparse
import gc
import logging
import sys
import time
from pathlib import Path

from .config import Config


def serve(args: argparse.Namespace) -> int:
    """Bind the port, build the app, then announce and serve: a busy port is one line and exit
    status 2, before anything starts or says it is serving."""
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    config = Config.from_env().with_overrides(**overrides)
    if config.async_mode not in ("gevent", "threading"):
        raise SystemExit(f"ASYNC_MODE must be gevent or threading, got {config.async_mode!r}")
    if config.async_mode == "gevent":
        if config.composer_processes < 1:
            raise SystemExit("ASYNC_MODE=gevent needs COMPOSER_PROCESSES of 1 or more: a torch call on the server's one thread would stop every player")
        # Before Flask, Socket.IO, SQLAlchemy and Redis load: their threads, locks, sockets and
        # sleeps become gevent's, so whatever waits yields to the other players.
        from gevent import monkey

        monkey.patch_all()
    from .app import PortInUse, configure_logging, create_app, listener, serve_forever, socketio_of
    from .collector import collect_on_a_clock
    from .priority import take_short_turns

    try:
        configure_logging(config.log_level)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    try:
        sock = listener(config.host, config.port)  # after patch_all: gevent's socket under gevent
    except PortInUse:
        print(f"melody-arcade: port {config.port} on {config.host} is already in use (is another server running? set PORT=... to use another)", file=sys.stderr)
        return 2
    except OSError as exc:  # a HOST not of this machine, a port below 1024 for an unprivileged user
        print(f"melody-arcade: cannot listen on port {config.port} on {config.host}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    app = create_app(config)
    # What exists now (modules, the app, its handlers) lives as long as the process: out of the
    # collector's sight, so that a full collection walks only the game's own objects.
    gc.collect()
    gc.freeze()
    # Collections on a clock: each pause short however allocations and frees balance.
    collect_on_a_clock()
    take_short_turns()  # the event loop's thread: it wakes to answer a player
    logging.getLogger("game_server").info("serving on http://%s:%d (%s)", config.host, config.port, config.async_mode)
    serve_forever(app, socketio_of(app), config.host, config.port, sock=sock)
    return 0


def generate(args: argparse.Namespace) -> int:
    """Compose one piece with the committed models and write it as MIDI (or the Piece JSON)."""
    from models.composer import default_composer
    from models.melody import ComposerError
    from music import PieceError, piece_to_json, write_midi

    try:
        key = parse_key(args.key) if args.key else None
        started = time.perf_counter()
        composer = default_composer(Path(Config.from_env().model_dir))
        loaded, cpu = time.perf_counter(), time.process_time()
        piece = composer.compose(
            bars=args.bars, meter=args.meter, style=args.style, key=key, tempo=args.tempo, seed=args.seed, **({"temperature": args.temperature} if args.temperature is not None else {})
        )
    except (ComposerError, PieceError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    composed, cpu = time.perf_counter(), time.process_time() - cpu
    print(f"composed in {(composed - loaded) * 1e3:.0f} ms, {cpu * 1e3:.0f} ms of CPU (models loaded in {(loaded - started) * 1e3:.0f} ms)", file=sys.stderr)
    if args.json:
        text = piece_to_json(piece)
        if args.output == "-":
            print(text)
        else:
            with open(args.output, "w") as f:
                f.write(text)
    else:
        write_midi(piece, args.output)
    print(f"{piece.bars} bars of {piece.meter} in {piece.key} at {piece.tempo} bpm: "
          f"{len(piece.melody)} notes, {len(piece.chords)} chords, {len(piece.drums)} drum hits -> {args.output}", file=sys.stderr)
    return 0


def parse_key(text: str):
    """'D minor', 'Eb major', 'F#' -> Key."""
    from music import Key, PieceError
    from music.piece import PITCH_CLASS_NAMES

    parts = text.split()
    names = {name.lower(): i for i, name in enumerate(PITCH_CLASS_NAMES)} | {"db": 1, "d#": 3, "gb": 6, "g#": 8, "a#": 10}
    if not parts or parts[0].lower() not in names or len(parts) > 2:
        raise PieceError(f"key must look like 'D minor' or 'Eb major', got {text!r}")
    return Key(names[parts[0].lower()], parts[1].lower() if len(parts) == 2 else "major")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m game_server", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="serve the game over HTTP and websockets")
    serve_cmd.add_argument("--host", help="address to listen on (default: $HOST or 127.0.0.1)")
    serve_cmd.add_argument("--port", type=int, help="port to listen on (default: $PORT or 5000)")
    serve_cmd.set_defaults(func=serve)
    gen = commands.add_parser("generate", help="compose a piece with the committed models")
    gen.add_argument("--bars", type=int, default=8)
    gen.add_argument("--meter", default="4/4", help="2/4, 3/4, 4/4 or 6/8")
    gen.add_argument("--style", default="irish", help="essen, irish, scottish or misc")
    gen.add_argument("--key", help="e.g. 'D minor' (default: drawn from the seed)")
    gen.add_argument("--tempo", type=int, help="quarter notes per minute (default: drawn from the seed)")
    gen.add_argument("--temperature", type=float, help="sampling temperature (default: the composer's, 0.85)")
    gen.add_argument("--seed", type=int, help="same seed, same piece (default: a fresh one)")
    gen.add_argument("--json", action="store_true", help="write the Piece JSON instead of MIDI")
    gen.add_argument("-o", "--output", default="piece.mid", help="file to write ('-' with --json: stdout)")
    gen.set_defaults(func=generate)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
