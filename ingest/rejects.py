"""Rejected records: where each came from, why, and the raw record, so nothing is silently lost.

A file of a million broken lines gives a million rejects; past the first :data:`KEEP_IN_MEMORY`
they wait in a temporary file instead of memory, so a bad input costs disk, not RAM.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import weakref
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

MAX_RAW_CHARS = 4_000
KEEP_IN_MEMORY = 10_000


def _printable(text: str) -> str:
    """The text with any lone surrogate (a byte that was not UTF-8, a bad ``\\ud800`` escape) escaped,
    so the rejects file can always be written as UTF-8."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8") if not text.isascii() else text


@dataclass(frozen=True)
class Reject:
    source: str
    line: int
    reason: str
    raw: str

    def to_json(self) -> str:
        return json.dumps({"source": self.source, "line": self.line, "reason": self.reason, "raw": self.raw},
                          ensure_ascii=False)


class Rejects:
    """Collects rejects from every reader of one command or run, then writes them as JSON lines."""

    def __init__(self, keep_in_memory: int = KEEP_IN_MEMORY) -> None:
        self._kept: list[Reject] = []
        self._keep = keep_in_memory
        self._spool: IO[str] | None = None
        self._spooled = 0

    def add(self, source: str, line: int, reason: str, raw: str | bytes | None) -> None:
        text = raw.decode("utf-8", "backslashreplace") if isinstance(raw, bytes) else raw or ""
        if len(text) > MAX_RAW_CHARS:
            text = text[:MAX_RAW_CHARS] + f"... [{len(text) - MAX_RAW_CHARS} more chars]"
        reject = Reject(source, line, _printable(reason[:500]), _printable(text))
        if len(self._kept) < self._keep:
            self._kept.append(reject)
            return
        if self._spool is None:
            self._spool = tempfile.TemporaryFile("w+", encoding="utf-8")
            weakref.finalize(self, self._spool.close)  # closed, and so removed, with this object
        self._spool.write(reject.to_json() + "\n")
        self._spooled += 1

    def extend(self, other: Rejects, *, source: str | None = None) -> None:
        """Add ``other``'s rejects, each under ``source`` when given (a reader that read a private
        copy of a file names the copy; the rejects file must name the file itself)."""
        for item in other.items:
            self.add(source or item.source, item.line, item.reason, item.raw)

    @property
    def items(self) -> list[Reject]:
        """Every reject so far, in the order they came (the spooled ones read back)."""
        spooled: list[Reject] = []
        if self._spool is not None:
            self._spool.flush()
            self._spool.seek(0)
            spooled = [Reject(**json.loads(line)) for line in self._spool]
            self._spool.seek(0, 2)
        return self._kept + spooled

    def __len__(self) -> int:
        return len(self._kept) + self._spooled

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as out:
            for item in self._kept:
                out.write(item.to_json() + "\n")
            if self._spool is not None:
                self._spool.flush()
                self._spool.seek(0)
                shutil.copyfileobj(self._spool, out)
                self._spool.seek(0, 2)
        return path
