"""Answers cached under the graph's version.

The graph changes when a write lands (nightly, or an admin call), not between requests, so an
answer computed once is true until the store's ``version()`` token changes. The cache keeps the
serialized bytes of up to ``entries`` answers and ``max_bytes`` in all for the current version,
least recently used out first, and drops them all when the version moves. The version itself is
asked of the store at most every ``check_s`` seconds (one file read on the embedded store, one
small query on Neo4j), which bounds how long a finished write can go unseen.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncio

    from graph.store import GraphStore


class AnswerCache:
    def __init__(self, entries: int, check_s: float, max_bytes: int = 64 << 20) -> None:
        self.entries = entries
        self.max_bytes = max_bytes
        self.check_s = check_s
        self._answers: OrderedDict[str, bytes] = OrderedDict()
        self.bytes = 0
        self._version: str | None = None
        self._checked = float("-inf")
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.inflight: dict[tuple[str, str], asyncio.Future[tuple[str, bytes]]] = {}
        self.checking: asyncio.Future[str] | None = None
        """The version check in flight, if any (event loop only)."""
        """Answers being computed now, so concurrent misses on one key compute it once (event loop only)."""

    def fresh_version(self) -> str | None:
        """The version if it was checked within ``check_s``; otherwise ``None`` (ask the store)."""
        if self._version is not None and time.monotonic() - self._checked < self.check_s:
            return self._version
        return None

    def known_version(self) -> str | None:
        """The last version seen, however old (``None`` before the first check)."""
        return self._version

    def checked(self, future: asyncio.Future[str]) -> None:
        """Done-callback of a version check: the next stale request may start another."""
        self.checking = None
        if not future.cancelled():
            future.exception()  # a failed check is reported to the requests that awaited it

    def check(self, store: GraphStore) -> str:
        """Ask the store (blocking: call it from a worker thread) and forget answers of older versions."""
        version = store.version()
        with self._lock:
            if version != self._version:
                self._answers.clear()
                self.bytes = 0
                self._version = version
            self._checked = time.monotonic()
        return version

    def get(self, version: str, key: str) -> bytes | None:
        with self._lock:
            body = self._answers.get(key) if version == self._version else None
            if body is not None:
                self._answers.move_to_end(key)
                self.hits += 1
            else:
                self.misses += 1
            return body

    def put(self, version: str, key: str, body: bytes) -> None:
        """Keep ``body``, dropping the least recently used answers past either bound."""
        if self.entries == 0 or len(body) > self.max_bytes:
            return
        with self._lock:
            if version != self._version:
                return
            old = self._answers.pop(key, None)
            self.bytes += len(body) - (len(old) if old is not None else 0)
            self._answers[key] = body
            while len(self._answers) > self.entries or self.bytes > self.max_bytes:
                _, dropped = self._answers.popitem(last=False)
                self.bytes -= len(dropped)

    def __len__(self) -> int:
        return len(self._answers)


def etag(version: str, key: str) -> str:
    """A strong validator: the same key under the same graph version is the same bytes."""
    return '"' + hashlib.blake2s(f"{version}\0{key}".encode(), digest_size=10).hexdigest() + '"'
