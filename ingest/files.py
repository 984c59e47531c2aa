"""Opening input files: size limits, transparent gzip / zstd, byte-order marks, content hashes, lines.

Every reader gets its bytes from here, so the rules about what a damaged file still yields live in
one place:

* a file that cannot be opened or read, or whose compressed stream is broken before its first
  complete line, raises :class:`graph.errors.BadFile`;
* a compressed stream that breaks or ends early after some lines keeps every complete line before
  the break and adds one reject saying where it ends (the partial line is the reject's raw text);
* a line longer than ``MATCHGRAPH_MAX_RECORD_BYTES`` is rejected without being held in memory,
  and the decompressed content is held to ``MATCHGRAPH_MAX_INPUT_BYTES`` as well (a small gzip
  file can hold gigabytes);
* a UTF-8 byte-order mark is dropped and CRLF line ends are read as LF; a UTF-16 or UTF-32 file is
  a ``BadFile`` (its lines would all be rejected as invalid UTF-8 otherwise).

The decompressors are driven by hand (``zlib`` / ``zstandard`` decompression objects) because the
stream readers of both libraries end a truncated zstd stream silently and throw away the last
gzip block, so neither can tell "ended" from "cut".
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl
import zstandard

from graph.errors import BadFile, InvalidInput
from graph.limits import DEFAULT_LIMITS, ReadLimits

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from ingest.rejects import Rejects

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
PARQUET_MAGIC = b"PAR1"
UTF8_BOM = b"\xef\xbb\xbf"
_WIDE_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff", b"\xff\xfe", b"\xfe\xff")
BLOCK = 1 << 20
_GZIP_FEED = 1 << 16
_ZSTD_FEED = 1 << 14
"""Compressed bytes fed to zstd at a time: its output per call cannot be bounded otherwise."""


class StreamCut(Exception):
    """The compressed stream broke or ended early; everything before it was already yielded."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            while block := fh.read(BLOCK):
                digest.update(block)
    except OSError as e:
        raise BadFile(path, f"cannot read it: {e.strerror}") from e
    return digest.hexdigest()


def _raw_blocks(path: Path, size: int) -> Iterator[bytes]:
    try:
        with open(path, "rb") as fh:
            while block := fh.read(size):
                yield block
    except OSError as e:
        raise BadFile(path, f"cannot read it: {e.strerror or e}") from e


def _gunzip(blocks: Iterator[bytes]) -> Iterator[bytes]:
    """Every member of a gzip stream, in output blocks of at most :data:`BLOCK` bytes.

    zlib drops the output of a call that fails, so a failing piece of input is fed again from a
    copy of the decompressor in small steps: all the text before the damage comes out.
    """
    inflate = zlib.decompressobj(wbits=31)
    for block in blocks:
        for start in range(0, len(block), _GZIP_FEED):
            data = block[start:start + _GZIP_FEED]
            while data:
                saved = inflate.copy()
                try:
                    out = inflate.decompress(data, BLOCK)
                except zlib.error as e:
                    yield from _until_damage(saved, data)
                    raise StreamCut(f"the gzip stream is damaged ({e})") from e
                if out:
                    yield out
                data = inflate.unconsumed_tail
                if not data and inflate.eof and inflate.unused_data:  # the next member
                    data = inflate.unused_data
                    inflate = zlib.decompressobj(wbits=31)
                    if not data.startswith(GZIP_MAGIC):
                        raise StreamCut("the gzip stream has bytes after its end that are not another gzip member")
    if not inflate.eof:
        try:
            rest = inflate.flush()
        except zlib.error:
            rest = b""
        if rest:
            yield rest
        raise StreamCut("the gzip stream ends early")


def _until_damage(inflate: zlib._Decompress, data: bytes) -> Iterator[bytes]:
    """What a decompressor gives for ``data`` fed a few bytes at a time, up to the failing step."""
    for start in range(0, len(data), 64):
        try:
            out = inflate.decompress(data[start:start + 64])
        except zlib.error:
            return
        if out:
            yield out


def _unzstd(blocks: Iterator[bytes]) -> Iterator[bytes]:
    """Every frame of a zstd stream."""
    unpack = zstandard.ZstdDecompressor().decompressobj()
    in_frame = False
    try:
        for block in blocks:
            for start in range(0, len(block), _ZSTD_FEED):
                data = block[start:start + _ZSTD_FEED]
                while data:
                    in_frame = True
                    out = unpack.decompress(data)
                    if out:
                        yield out
                    if not unpack.eof:
                        break
                    data, in_frame = unpack.unused_data, False
                    unpack = zstandard.ZstdDecompressor().decompressobj()
                    if data and not data.startswith(ZSTD_MAGIC):
                        raise StreamCut("the zstd stream has bytes after its end that are not another frame")
        if in_frame:
            raise StreamCut("the zstd stream ends early")
    except zstandard.ZstdError as e:
        raise StreamCut(f"the zstd stream is damaged ({e})") from e


def iter_content(path: Path, limits: ReadLimits = DEFAULT_LIMITS) -> Iterator[bytes]:
    """Decompressed blocks of a file without its byte-order mark; raises :class:`StreamCut` at the
    end when the stream is broken, after yielding everything before the break."""
    raw = _raw_blocks(path, BLOCK)
    first = next(raw, b"")
    while len(first) < 4:
        more = next(raw, b"")
        if not more:
            break
        first += more

    def rest() -> Iterator[bytes]:
        yield first
        yield from raw

    if first.startswith(GZIP_MAGIC):
        blocks = _gunzip(rest())
    elif first.startswith(ZSTD_MAGIC):
        blocks = _unzstd(rest())
    else:
        blocks = rest()
    total = 0
    at_start = True
    for block in blocks:
        if at_start and block:
            if block.startswith(_WIDE_BOMS) and not block.startswith(UTF8_BOM):
                raise BadFile(path, "is UTF-16 or UTF-32 text (by its byte-order mark): save it as UTF-8")
            block = block.removeprefix(UTF8_BOM)
            at_start = False
        total += len(block)
        if total > limits.max_input_bytes:
            raise StreamCut(f"the content goes on past {limits.max_input_bytes} bytes "
                            "(MATCHGRAPH_MAX_INPUT_BYTES), the rest is not read")
        if block:
            yield block


@dataclass(frozen=True)
class Content:
    """A whole file's decompressed bytes; ``cut`` says why and where it ended early, if it did."""

    data: bytes
    cut: str | None = None


def read_content(path: Path, limits: ReadLimits = DEFAULT_LIMITS) -> Content:
    """All of a file's content, for formats that are parsed as a whole (JSON, Parquet, CSV catalogs)."""
    parts: list[bytes] = []
    try:
        for block in iter_content(path, limits):
            parts.append(block)
    except StreamCut as cut:
        if not parts:
            raise BadFile(path, f"{cut.reason} before any content") from cut
        return Content(b"".join(parts), cut.reason)
    return Content(b"".join(parts))


def head(path: Path, n: int = 4096) -> bytes:
    """The first ``n`` decompressed bytes (without a byte-order mark), for format detection."""
    got = b""
    try:
        for block in iter_content(path):
            got += block
            if len(got) >= n:
                break
    except StreamCut:
        pass
    return got[:n]


def cut_reason(reason: str, unit: str, complete: int) -> str:
    """The reject reason for a stream that breaks after ``complete`` whole lines (or records)."""
    return f"{reason} after {unit} {complete}: every {unit} before it is kept, the rest of the file is lost"


def iter_line_chunks(path: Path, chunk_lines: int, rejects: Rejects,
                     limits: ReadLimits = DEFAULT_LIMITS) -> Iterator[tuple[int, list[bytes]]]:
    """Chunks of at most ``chunk_lines`` lines as ``(number of the first line, lines)``; 1-based.

    Lines come without their ``\\n`` or ``\\r\\n``. A line over the record size limit comes as an
    empty line (so numbering holds) and is rejected here; so is the partial last line of a stream
    that breaks, with the reason and the number of the last complete line.
    """
    source = str(path)
    number = 1  # number of the next line to complete
    pending: list[bytes] = []
    carry = b""
    skipping = False  # inside an over-long line, dropping bytes up to its end
    limit = limits.max_record_bytes
    try:
        for block in iter_content(path, limits):
            parts = block.split(b"\n")  # per block, in C: no Python step per line on clean input
            last = parts.pop()
            if parts:
                if skipping:  # the end of an over-long line, rejected when it began
                    parts[0], skipping = b"", False
                elif carry:
                    parts[0], carry = carry + parts[0], b""
                if b"\r" in block or parts[0].endswith(b"\r"):
                    parts = [p[:-1] if p.endswith(b"\r") else p for p in parts]
                if max(map(len, parts)) > limit:
                    for index, part in enumerate(parts):
                        if len(part) > limit:
                            _reject_long(rejects, source, number + index, part, limit)
                            parts[index] = b""
                pending.extend(parts)
                number += len(parts)
            if not skipping:
                carry += last
                if len(carry) > limit:
                    _reject_long(rejects, source, number, carry, limit)
                    carry, skipping = b"", True
            while len(pending) >= chunk_lines:
                yield number - len(pending), pending[:chunk_lines]
                pending = pending[chunk_lines:]
    except StreamCut as cut:
        if number == 1 and not carry:
            raise BadFile(path, f"{cut.reason} before its first line") from cut
        if pending:
            yield number - len(pending), pending
        complete = number - 1
        rejects.add(source, number, cut_reason(cut.reason, "line", complete), carry)
        return
    first = number - len(pending)
    if skipping:
        pending.append(b"")
    elif carry:
        pending.append(carry[:-1] if carry.endswith(b"\r") else carry)
    if pending:
        yield first, pending


def _reject_long(rejects: Rejects, source: str, number: int, start: bytes, limit: int) -> None:
    rejects.add(source, number, f"longer than {limit} bytes (MATCHGRAPH_MAX_RECORD_BYTES)", start[:4000])


POLARS_FAILURES: tuple[type[BaseException], ...] = (pl.exceptions.PolarsError, pl.exceptions.PanicException,
                                                     OSError, ValueError)
"""What polars may raise on input it cannot take: its own errors, a Rust panic (a bug, but a bad
file must not turn into a crash), I/O errors and bad arguments."""


def first_line(error: BaseException) -> str:
    """The first line of an error's message (polars errors carry a long context after it)."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:300]


def unknown_format(kind: str, fmt: str, choices: str) -> InvalidInput:
    return InvalidInput(f"unknown {kind} format {fmt!r}: use {choices}")
