"""Opening input files: size limits, transparent gzip / zstd, content hashes, line chunks."""

from __future__ import annotations

import gzip
import hashlib
import io
from typing import TYPE_CHECKING, BinaryIO

import zstandard

from graph.errors import InvalidInput

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
PARQUET_MAGIC = b"PAR1"
BLOCK = 1 << 20


def check_readable(path: Path, max_bytes: int) -> int:
    """The file's size, after checking it exists, is a file and is within the size limit."""
    try:
        size = path.stat().st_size
    except OSError as e:
        raise InvalidInput(f"cannot read {path}: {e.strerror}") from e
    if not path.is_file():
        raise InvalidInput(f"{path} is not a file")
    if size > max_bytes:
        raise InvalidInput(f"{path} is {size} bytes, over the limit of {max_bytes} (MATCHGRAPH_MAX_INPUT_BYTES)")
    return size


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


def open_decompressed(path: Path) -> BinaryIO:
    """A binary stream of the file's content, decompressed when it is gzip or zstd."""
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic.startswith(GZIP_MAGIC):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if magic.startswith(ZSTD_MAGIC):
        return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), closefd=True))
    return open(path, "rb")


def head(path: Path, n: int = 4096) -> bytes:
    """The first ``n`` decompressed bytes, for format detection."""
    with open_decompressed(path) as stream:
        return stream.read(n)


def iter_line_chunks(stream: BinaryIO, chunk_lines: int) -> Iterator[tuple[int, list[bytes]]]:
    """Chunks of at most ``chunk_lines`` lines as ``(number of the first line, lines)``; 1-based."""
    carry = b""
    first = 1
    pending: list[bytes] = []
    while True:
        block = stream.read(BLOCK)
        if not block:
            break
        parts = (carry + block).split(b"\n")
        carry = parts.pop()
        pending.extend(parts)
        while len(pending) >= chunk_lines:
            yield first, pending[:chunk_lines]
            first += chunk_lines
            pending = pending[chunk_lines:]
    if carry:
        pending.append(carry)
    if pending:
        yield first, pending
