"""The message queue between server processes (REDIS_URL): python-socketio's RedisManager,
made to come back quickly after a Redis outage and to say so.

Stock, its listener retries at 1, 2, 4... up to 60 s apart and logs every try, and redis-py's own
retries (ten, up to a second apart) hide a short outage from it: it resubscribes on its own,
and nobody learns that the events published meanwhile were lost. A fault-injection run found a
co-op partner on the other process deaf for 7-10 s after a 9 s outage, and a lost
`round_started` left them without the round. Here:

- the listener's connection does not retry on its own: every drop reaches the listen loop, which
  tries again every RETRY_SECONDS, so it resubscribes within about a second of Redis returning;
- when it resubscribes after a gap it calls `on_back(gap_seconds)` (the app pushes `resync` to
  the players seated on this process: they may have missed anything sent meanwhile);
- the outage is logged once: WARNING when the queue loses Redis, INFO when it is back, with how
  long it was gone and how many emits could not be published meanwhile (a partner on another
  process missed them). Emits to this process's own clients are delivered all along.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from socketio import RedisManager

log = logging.getLogger("melody_arcade.queue")

RETRY_SECONDS = 0.5  # between two tries to resubscribe while Redis is away
CONNECT_TIMEOUT = 2.0  # seconds: a Redis host that does not answer at all is away too
UNPUBLISHED_WARNING_EVERY = 60.0  # seconds: a publish that fails while the listener is fine


class Outage:
    """Whether the queue has lost Redis, since when, and what it could not publish meanwhile:
    one WARNING line when it starts, one INFO line when it ends."""

    def __init__(self):
        self.since: float | None = None
        self.unpublished = 0
        self.last_warned = -UNPUBLISHED_WARNING_EVERY

    def lost(self, exc: Exception) -> None:
        if self.since is None:
            self.since = time.monotonic()
            log.warning("message queue lost Redis (%s: %s): events do not reach the other processes; resubscribing every %.1f s",
                        type(exc).__name__, str(exc)[:200], RETRY_SECONDS)

    def back(self) -> float | None:
        """Ends the outage; its length in seconds, or None if there was none."""
        if self.since is None:
            return None
        gap, self.since = time.monotonic() - self.since, None
        log.info("message queue back after %.1f s without Redis (%d emits not published meanwhile): seated players get resync",
                 gap, self.unpublished)
        self.unpublished = 0
        return gap

    def not_published(self, exc: Exception) -> None:
        self.unpublished += 1
        if self.since is None and time.monotonic() - self.last_warned >= UNPUBLISHED_WARNING_EVERY:
            self.last_warned = time.monotonic()
            log.warning("an emit was not published to the other processes (%s: %s); said at most once a minute",
                        type(exc).__name__, str(exc)[:200])


class MessageQueue(RedisManager):
    """RedisManager with a short fixed retry, one log line per outage, and `on_back`."""

    def __init__(self, url: str, channel: str, redis_options: dict | None = None, on_back: Callable[[float], None] | None = None):
        options = {**(redis_options or {}), "retry": Retry(NoBackoff(), 0), "socket_connect_timeout": CONNECT_TIMEOUT}
        super().__init__(url, channel=channel, redis_options=options)
        self.on_back = on_back or (lambda gap: None)
        self.outage = Outage()

    def _redis_listen_with_retries(self):
        """Messages from the channel, forever: (re)connect and subscribe, listen until the
        connection fails, try again RETRY_SECONDS later. Replaces python-socketio's growing
        back-off (this version's `_redis_listen_with_retries`, which `_listen` reads)."""
        while True:
            try:
                self._redis_connect()
                self.pubsub.subscribe(self.channel)
                gap = self.outage.back()
                if gap is not None:
                    self.on_back(gap)
                yield from self.pubsub.listen()
            except Exception as exc:  # redis-py's errors, or anything else: the loop must go on
                self.outage.lost(exc)
                time.sleep(RETRY_SECONDS)

    def _publish(self, data):
        """Two tries (the second on a fresh connection, as python-socketio does); a failure is
        counted, not logged per emit."""
        for last_try in (False, True):
            try:
                if not self.connected:
                    self._redis_connect()
                return self.redis.publish(self.channel, self.json.dumps(data))
            except redis.RedisError as exc:
                self.connected = False
                if last_try:
                    self.outage.not_published(exc)
        return None
