"""Rejected records: where each came from, why, and the raw record, so nothing is silently lost."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

MAX_RAW_CHARS = 4_000


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


@dataclass
class Rejects:
    """Collects rejects from every reader of one command or run, then writes them as JSON lines."""

    items: list[Reject] = field(default_factory=list)

    def add(self, source: str, line: int, reason: str, raw: str | bytes | None) -> None:
        text = raw.decode("utf-8", "backslashreplace") if isinstance(raw, bytes) else raw or ""
        if len(text) > MAX_RAW_CHARS:
            text = text[:MAX_RAW_CHARS] + f"... [{len(text) - MAX_RAW_CHARS} more chars]"
        self.items.append(Reject(source, line, _printable(reason[:500]), _printable(text)))

    def __len__(self) -> int:
        return len(self.items)

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as out:
            for item in self.items:
                out.write(
                    json.dumps(
                        {"source": item.source, "line": item.line, "reason": item.reason, "raw": item.raw},
                        ensure_ascii=False,
                    )
                    + "\n"
                )
        return path
