"""Bad input at the readers: one bad file or record never stops the rest, and nothing slips through.

Each case here reproduces a finding of an outside probe of the readers (a truncated gzip, a nested
value, a BOM, ``Infinity`` in a signal, a look-alike id, ...); the property tests at the end throw
random bytes, JSON, CSV and Parquet at every reader and allow exactly one exception,
:class:`graph.errors.BadFile`.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import re
import unicodedata
import zlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.errors import BadFile, InvalidInput
from graph.limits import DEFAULT_LIMITS, ReadLimits
from graph.schema import (
    ID_PATTERN,
    Artifact,
    ArtifactId,
    id_problem,
    is_valid_id,
    normalize_intent,
    normalize_intent_expr,
)
from graph.settings import Settings
from ingest.adapters import ADAPTERS
from ingest.catalog import detect_catalog_format, read_catalog
from ingest.logs import SEARCH_SCHEMA, SeenIds, detect_log_format, read_logs
from ingest.rejects import Rejects
from tests.fixtures import CATALOG, SEARCHES

pytestmark = pytest.mark.reliability

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _search(i: int, **over: Any) -> dict[str, Any]:
    return {"search_id": f"s{i}", "ts": "2026-01-02T03:04:05Z", "query": f"query {i % 7}",
            "results": ["flux-1-pro", "dalle-3", f"a-{i % 13}"], "clicks": ["dalle-3"], "session_id": f"u{i % 5}",
            **over}


def _artifact(i: int, **over: Any) -> dict[str, Any]:
    return {"id": f"art-{i}", "name": f"Artifact {i}", "type": "model", "signals": {"likes": float(i)}, **over}


def _jsonl(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def _logs(path: Path, fmt: str | None = None, limits: ReadLimits = DEFAULT_LIMITS,
          chunk_lines: int = 100_000) -> tuple[pl.DataFrame, Rejects]:
    rejects = Rejects()
    frames = list(read_logs(path, rejects, SeenIds(), fmt, chunk_lines, limits=limits))
    for frame in frames:
        assert frame.schema == pl.Schema(SEARCH_SCHEMA)
    return (pl.concat(frames) if frames else pl.DataFrame(schema=SEARCH_SCHEMA)), rejects


def _catalog(path: Path, fmt: str | None = None,
             limits: ReadLimits = DEFAULT_LIMITS) -> tuple[list[Artifact], int, Rejects]:
    rejects = Rejects()
    artifacts, read = read_catalog(path, rejects, fmt, limits=limits)
    return artifacts, read, rejects


def _reasons(rejects: Rejects) -> dict[int, str]:
    return {r.line: r.reason for r in rejects.items}


# --------------------------------------------------------------------------------------------
# One bad file: BadFile and nothing else
# --------------------------------------------------------------------------------------------

def test_a_directory_or_an_unreadable_file_is_a_bad_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(BadFile, match=str(tmp_path)):
        _logs(tmp_path)
    with pytest.raises(BadFile):
        _catalog(tmp_path, "jsonl")
    path = tmp_path / "locked.jsonl"
    path.write_bytes(_jsonl([_search(1)]))

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    import ingest.files

    monkeypatch.setattr(ingest.files, "open", refuse, raising=False)
    with pytest.raises(BadFile, match="Permission denied") as caught:
        _logs(path, "native-jsonl")
    assert caught.value.path == str(path)
    assert isinstance(caught.value, InvalidInput)  # mapped to 422 / exit code 2 like other input errors
    with pytest.raises(BadFile, match="Permission denied"):
        _catalog(path, "jsonl")


def test_a_truncated_gzip_log_keeps_every_line_before_the_cut(tmp_path: Path) -> None:
    data = _jsonl([_search(i) for i in range(5_000)])
    packed = gzip.compress(data)
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(packed[: len(packed) // 2])
    frame, rejects = _logs(path, chunk_lines=1_000)
    assert 2_000 < frame.height < 5_000
    assert frame.get_column("search_id").to_list() == [f"s{i}" for i in range(frame.height)]
    assert len(rejects) == 1
    (cut,) = rejects.items
    assert cut.line == frame.height + 1
    assert f"gzip stream ends early after line {frame.height}" in cut.reason
    assert data.split(b"\n")[frame.height].startswith(cut.raw.encode())  # the partial line is the raw text


def test_a_truncated_gzip_catalog_keeps_every_record_before_the_cut(tmp_path: Path) -> None:
    data = _jsonl([_artifact(i) for i in range(2_000)])
    packed = gzip.compress(data)
    path = tmp_path / "catalog.jsonl.gz"
    path.write_bytes(packed[: len(packed) * 2 // 3])
    artifacts, read, rejects = _catalog(path)
    assert len(artifacts) > 1_000
    assert [a.id for a in artifacts] == [f"art-{i}" for i in range(len(artifacts))]
    assert read == len(artifacts) + 1
    assert [r.line for r in rejects.items] == [len(artifacts) + 1]
    assert "ends early" in rejects.items[0].reason


def test_a_truncated_zstd_catalog_is_still_json_lines(tmp_path: Path) -> None:
    data = _jsonl([_artifact(i) for i in range(30_000)])
    packed = zstandard.ZstdCompressor().compress(data)
    path = tmp_path / "catalog.jsonl.zst"
    path.write_bytes(packed[: len(packed) // 2])
    assert detect_catalog_format(path) == "jsonl"
    artifacts, read, rejects = _catalog(path)
    assert len(artifacts) > 5_000  # zstd gives its output in blocks of 128 KiB: the lines of whole blocks
    assert [a.id for a in artifacts] == [f"art-{i}" for i in range(len(artifacts))]
    assert read == len(artifacts) + 1
    assert "zstd stream ends early" in rejects.items[-1].reason
    path.write_bytes(packed[:200])  # not one block: nothing to keep, and no empty CSV either
    with pytest.raises(BadFile, match="zstd stream ends early"):
        _catalog(path)


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_truncated_whole_file_catalogs_keep_the_records_before_the_cut(tmp_path: Path, fmt: str) -> None:
    records = [_artifact(i) for i in range(1_000)]
    if fmt == "json":
        data = json.dumps(records, indent=1).encode()
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=["id", "name", "type", "likes"])
        writer.writeheader()
        writer.writerows({"id": r["id"], "name": r["name"], "type": r["type"], "likes": r["signals"]["likes"]}
                         for r in records)
        data = buffer.getvalue().encode()
    packed = gzip.compress(data)
    path = tmp_path / f"catalog.{fmt}.gz"
    path.write_bytes(packed[: len(packed) // 2])
    artifacts, read, rejects = _catalog(path, fmt)
    assert len(artifacts) > 300
    assert [a.id for a in artifacts] == [f"art-{i}" for i in range(len(artifacts))]
    assert read == len(artifacts) + len(rejects)
    assert "gzip stream ends early" in rejects.items[-1].reason


def test_a_broken_compressed_stream_before_any_line_is_a_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl.gz"
    path.write_bytes(gzip.compress(_jsonl([_search(1)]))[:12])
    with pytest.raises(BadFile, match="gzip stream"):
        _logs(path, "native-jsonl")
    damaged = bytearray(gzip.compress(_jsonl([_search(i) for i in range(2_000)]), compresslevel=1))
    damaged[len(damaged) // 2: len(damaged) // 2 + 64] = bytes(64)
    path.write_bytes(bytes(damaged))
    frame, rejects = _logs(path, "native-jsonl")
    assert frame.height > 100
    assert "gzip stream" in rejects.items[-1].reason


def test_nesting_deeper_than_any_parser_takes_is_one_reject(tmp_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    lines = [json.dumps(_search(1)), json.dumps(_search(2))[:-1] + f', "extra": {deep}}}',
             json.dumps(_search(3))[:-1] + f', "query": {deep}}}', json.dumps(_search(4))]
    path = tmp_path / "deep.jsonl"
    path.write_text("\n".join(lines) + "\n")
    frame, rejects = _logs(path)
    assert frame.get_column("search_id").to_list() == ["s1", "s4"]
    assert sorted(_reasons(rejects)) == [2, 3]
    assert all("nested too deeply" in r or "not valid JSON" in r for r in _reasons(rejects).values())
    catalog = tmp_path / "deep-catalog.jsonl"
    catalog.write_text("\n".join([json.dumps(_artifact(1)), f'{{"id": "x", "name": "x", "type": "model", '
                                  f'"capabilities": {deep}}}', json.dumps(_artifact(2))]) + "\n")
    artifacts, read, rejects = _catalog(catalog)
    assert ([a.id for a in artifacts], read, list(_reasons(rejects))) == (["art-1", "art-2"], 3, [2])
    array = tmp_path / "deep.json"
    array.write_text(f'[{json.dumps(_artifact(1))}, {{"id": "x", "description": {deep}}}, {json.dumps(_artifact(2))}]')
    artifacts, read, rejects = _catalog(array)
    assert [a.id for a in artifacts] == ["art-1"]
    assert "nested too deeply" in rejects.items[0].reason


def test_a_huge_integer_search_id_is_a_text_id(tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    huge = 10**40
    path.write_text("\n".join([json.dumps(_search(1)), json.dumps(_search(2, search_id=huge)),
                               json.dumps(_search(3, session_id=-(10**30))),
                               json.dumps(_search(4, search_id=1.5))]) + "\n")
    frame, rejects = _logs(path)
    assert frame.get_column("search_id").to_list() == ["s1", str(huge), "s3"]
    assert frame.get_column("session_id").to_list()[2] == str(-(10**30))
    assert "search_id: expected a string or an integer" in _reasons(rejects)[4]


def test_values_of_the_wrong_kind_are_rejected_not_converted(tmp_path: Path) -> None:
    """polars would turn 7 into "7" and "x" into ["x"]: such lines are checked by hand, among clean ones."""
    wrong = [_search(1, query=7), _search(2, results=[1, "dalle-3"]), _search(3, results=["dalle-3", 2]),
             _search(4, results="flux-1-pro"), _search(5, ts=1767323045), _search(6, query=True),
             _search(7, clicks=[None]), _search(8, session_id=1.5), _search(9, results=[["a"]])]
    lines = [_search(100 + i) for i in range(500)]
    lines[100:100] = wrong
    path = tmp_path / "kinds.jsonl"
    path.write_bytes(_jsonl(lines))
    frame, rejects = _logs(path)
    assert frame.height == 500
    reasons = _reasons(rejects)
    assert sorted(reasons) == list(range(101, 110))
    assert reasons[101] == "query: expected a string, got the number 7"
    assert reasons[102] == "results.0: expected a string, got the number 1"
    assert reasons[103] == "results.1: expected a string, got the number 2"
    assert reasons[104] == "results: expected an array, got a string"
    assert reasons[105].startswith("ts: expected a string")
    assert reasons[106] == "query: expected a string, got true"
    assert reasons[107] == "clicks.0: null in an array"
    assert reasons[108].startswith("session_id: expected a string or an integer")
    assert reasons[109] == "results.0: expected a string, got an array"


def test_a_bad_record_does_not_take_the_id_of_a_good_one(tmp_path: Path) -> None:
    path = tmp_path / "ids.jsonl"
    path.write_bytes(_jsonl([_search(1, ts="not a time"), _search(1), _search(1, query="again"), _search(2)]))
    frame, rejects = _logs(path)
    assert frame.get_column("search_id").to_list() == ["s1", "s2"]
    assert frame.get_column("query").to_list() == ["query 1", "query 2"]
    assert [(r.line, r.reason.split(":")[0]) for r in rejects.items] == [(1, "ts"), (3, "search_id")]


def test_a_file_with_nothing_valid_reads_as_zero_records(tmp_path: Path) -> None:
    path = tmp_path / "junk.jsonl"
    path.write_bytes(b"not json\n{}\n[1, 2]\n\xff\xfe\n")
    frame, rejects = _logs(path, "native-jsonl")
    assert frame.height == 0
    assert sorted(_reasons(rejects)) == [1, 2, 3, 4]
    catalog = tmp_path / "junk-catalog.jsonl"
    catalog.write_bytes(b"{}\n{\"id\": 1}\nnope\n")
    artifacts, read, rejects = _catalog(catalog, "jsonl")
    assert (artifacts, read, len(rejects)) == ([], 3, 3)


def test_an_over_long_line_is_rejected_without_stopping_the_file(tmp_path: Path) -> None:
    limits = ReadLimits(max_record_bytes=2_000)
    path = tmp_path / "long.jsonl"
    long_line = json.dumps(_search(2, query="x" * 5_000))
    path.write_text("\n".join([json.dumps(_search(1)), long_line, json.dumps(_search(3))]) + "\n")
    frame, rejects = _logs(path, limits=limits)
    assert frame.get_column("search_id").to_list() == ["s1", "s3"]
    assert [(r.line, r.reason) for r in rejects.items] == [
        (2, "longer than 2000 bytes (MATCHGRAPH_MAX_RECORD_BYTES)")]
    assert len(rejects.items[0].raw) <= 4_000


def test_many_rejects_wait_on_disk_not_in_memory(tmp_path: Path) -> None:
    path = tmp_path / "junk.jsonl"
    path.write_text("".join(f"broken line {i} \u00e9\n" for i in range(50)) + json.dumps(_search(1)) + "\n")
    rejects = Rejects(keep_in_memory=5)
    frames = list(read_logs(path, rejects, SeenIds(), "native-jsonl", 7))
    assert sum(f.height for f in frames) == 1
    assert len(rejects) == 50
    assert len(rejects._kept) == 5
    assert [r.line for r in rejects.items] == list(range(1, 51))
    written = [json.loads(line) for line in rejects.write(tmp_path / "rejects.jsonl").read_text("utf-8").splitlines()]
    assert [r["line"] for r in written] == list(range(1, 51))
    assert written[49]["raw"] == "broken line 49 \u00e9"


# --------------------------------------------------------------------------------------------
# Good rows that were lost
# --------------------------------------------------------------------------------------------

def test_a_bom_and_crlf_do_not_change_the_format(tmp_path: Path) -> None:
    catalog = tmp_path / "bom.jsonl"
    catalog.write_bytes(b"\xef\xbb\xbf" + _jsonl(CATALOG[:3]).replace(b"\n", b"\r\n"))
    assert detect_catalog_format(catalog) == "jsonl"
    artifacts, read, rejects = _catalog(catalog)
    assert (len(artifacts), read, len(rejects)) == (3, 3, 0)
    header = "search_id,ts,query,results,clicks,session_id"
    rows = [f'{s["search_id"]},{s["ts"]},{s["query"]},{";".join(s["results"])},{";".join(s["clicks"])},'
            f'{s["session_id"] or ""}' for s in SEARCHES]
    log = tmp_path / "bom.csv"
    log.write_bytes(b"\xef\xbb\xbf" + "\r\n".join([header, *rows]).encode() + b"\r\n")
    assert detect_log_format(log) == "native-csv"
    frame, rejects = _logs(log)
    assert (frame.height, len(rejects)) == (len(SEARCHES), 0)
    assert frame.get_column("session_id").to_list() == [s["session_id"] for s in SEARCHES]  # no stray \r
    utf16 = tmp_path / "utf16.jsonl"
    utf16.write_bytes(b"\xff\xfe" + _jsonl(SEARCHES).decode().encode("utf-16-le"))
    with pytest.raises(BadFile, match="UTF-16"):
        _logs(utf16, "native-jsonl")


def test_a_ragged_csv_catalog_row_is_one_reject(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("id,name,type,likes\nart-1,One,model,3\nart-2,Two,model,4,surplus,cells\nart-3,Three\n"
                    'art-4,"Four, with a comma\nand a line break",model,5\n')
    artifacts, read, rejects = _catalog(path)
    assert [a.id for a in artifacts] == ["art-1", "art-4"]
    assert read == 4
    reasons = _reasons(rejects)
    assert "6 fields, expected 4" in reasons[3]
    assert "type" in reasons[4]  # a short row ends in empty fields: its type is missing
    assert artifacts[1].name == "Four, with a comma\nand a line break"


def test_parquet_logs_with_wrong_column_types(tmp_path: Path) -> None:
    base = pl.DataFrame([_search(i) for i in range(4)])
    path = tmp_path / "typed.parquet"
    base.with_columns(pl.Series("search_id", [1, 2, 3, 4]), pl.Series("ts", ["2026-01-02", "bad", "2026-01-03 04:05",
                                                                            None])).write_parquet(path)
    frame, rejects = _logs(path)
    assert frame.get_column("search_id").to_list() == ["1", "3"]
    assert sorted(_reasons(rejects)) == [2, 4]
    assert "ts: not an ISO 8601 timestamp" in _reasons(rejects)[2]
    base.with_columns(pl.Series("ts", [1, 2, 3, 4])).write_parquet(path)
    with pytest.raises(BadFile, match="column ts is Int64"):
        _logs(path)
    base.with_columns(pl.Series("results", [1.5, 2.5, 3.5, 4.5])).write_parquet(path)
    with pytest.raises(BadFile, match="column results is Float64, not a list of ids"):
        _logs(path)
    base.with_columns(pl.struct(pl.col("query")).alias("query")).write_parquet(path)
    with pytest.raises(BadFile, match="column query is Struct"):
        _logs(path)
    base.drop("results").write_parquet(path)
    with pytest.raises(BadFile, match="lacks the columns results"):
        _logs(path)
    path.write_bytes(b"PAR1 but not really parquet")
    with pytest.raises(BadFile, match="Parquet"):
        _logs(path)


# --------------------------------------------------------------------------------------------
# Values that poison later steps
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", ["Infinity", "-Infinity", "NaN", "1e400"])
def test_non_finite_signals_are_rejected_with_the_field(tmp_path: Path, raw: str) -> None:
    path = tmp_path / "inf.jsonl"
    path.write_text(json.dumps(_artifact(1)) + "\n" + json.dumps(_artifact(2))[:-1] + ', "price_input": 1}\n'
                    + json.dumps(_artifact(3)).replace('"likes": 3.0', f'"likes": {raw}') + "\n")
    for fmt in ("jsonl", "json"):
        if fmt == "json":
            path = tmp_path / "inf.json"
            path.write_text("[" + ",".join((tmp_path / "inf.jsonl").read_text().splitlines()) + "]")
        artifacts, _, rejects = _catalog(path)
        assert [a.id for a in artifacts] == ["art-1", "art-2"]
        assert rejects.items[0].reason.startswith("signals.likes"), rejects.items[0].reason


@pytest.mark.parametrize("value", ["inf", "nan", "-inf", "1e400", "2e15"])
def test_csv_signals_out_of_range_are_rejected(tmp_path: Path, value: str) -> None:
    path = tmp_path / "signals.csv"
    path.write_text(f"id,name,type,likes,price_input\nok,OK,model,3,2.5\nbad,Bad,model,{value},1\n"
                    "dear,Dear,model,1,2000000\n")
    artifacts, read, rejects = _catalog(path)
    assert [a.id for a in artifacts] == ["ok"]
    reasons = _reasons(rejects)
    assert reasons[3].startswith("signals.likes")
    assert reasons[4].startswith("price_input")
    assert "MATCHGRAPH_MAX_PRICE_PER_MTOK" in reasons[4]


def test_timestamps_outside_the_window_are_rejected(tmp_path: Path) -> None:
    soon = (datetime.now(UTC) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    late = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    stamps = ["2026-01-02T03:04:05Z", "9999-12-31", "1999-12-31T23:59:59Z", soon, late, "0001-01-01"]
    path = tmp_path / "window.jsonl"
    path.write_bytes(_jsonl([_search(i, ts=ts) for i, ts in enumerate(stamps)]))
    frame, rejects = _logs(path)
    assert frame.get_column("search_id").to_list() == ["s0", "s3"]
    reasons = _reasons(rejects)
    assert "in the future" in reasons[2]
    assert "MATCHGRAPH_TS_FUTURE_TOLERANCE_S" in reasons[2]
    assert "before 2000-01-01" in reasons[3]
    assert "in the future" in reasons[5]
    assert "before" in reasons[6]
    wider = ReadLimits.from_settings(Settings(MATCHGRAPH_TS_EARLIEST="1990-01-01",  # type: ignore[call-arg]
                                              MATCHGRAPH_TS_FUTURE_TOLERANCE_S=7 * 86_400))
    assert (wider.ts_earliest, wider.ts_future_tolerance_s) == (date(1990, 1, 1), 7 * 86_400)
    frame, rejects = _logs(path, limits=wider)
    assert frame.get_column("search_id").to_list() == ["s0", "s2", "s3", "s4"]


def test_ubi_epoch_timestamps_out_of_range_are_rejected(tmp_path: Path) -> None:
    def query(qid: str, ts: object) -> str:
        return json.dumps({"query_id": qid, "user_query": "q", "timestamp": ts,
                           "query_response_hit_ids": ["a", "b"], "application": "t"})

    path = tmp_path / "ubi.ndjson"
    path.write_text("\n".join([query("q1", 1767323045000), query("q2", 99999999999999999),
                               query("q3", 10**30), query("q4", "2026-01-02 03:04:05"),
                               query("q5", -5), query("q6", "2026-01-02T03:04:05.5+02:00")]) + "\n")
    assert detect_log_format(path) == "ubi"
    frame, rejects = _logs(path)
    assert sorted(frame.get_column("search_id").to_list()) == ["q1", "q4", "q6"]
    stamps = dict(zip(frame.get_column("search_id").to_list(), frame.get_column("ts").to_list(), strict=True))
    assert stamps["q6"] == datetime(2026, 1, 2, 1, 4, 5, 500_000, tzinfo=UTC)
    reasons = _reasons(rejects)
    assert sorted(reasons) == [2, 3, 5]
    assert "epoch milliseconds outside the accepted window" in reasons[2]
    assert "timestamp" in reasons[3]


LOOKALIKES = {
    "cyrillic a": "flux-1-pr\u043e",
    "fullwidth": "\uff46lux-1-pro",
    "ligature": "\ufb01ne-tune",
    "zero-width": "flux\u200b-1-pro",
    "kelvin sign": "\u212aandinsky",
    "dotted capital i": "\u0130mage",
}


@pytest.mark.parametrize("name", sorted(LOOKALIKES))
def test_look_alike_ids_are_rejected_and_say_so(tmp_path: Path, name: str) -> None:
    fake = LOOKALIKES[name]
    assert not is_valid_id(fake)
    problem = id_problem(fake)
    assert problem is not None
    assert "non-ASCII" in problem
    assert unicodedata.name(next(c for c in fake if not c.isascii())) in problem
    path = tmp_path / "fake.jsonl"
    path.write_bytes(_jsonl([_search(1), _search(2, results=["dalle-3", fake]), _search(3, clicks=[fake])]))
    frame, rejects = _logs(path)
    assert frame.get_column("search_id").to_list() == ["s1"]
    assert all("non-ASCII" in r.reason and "look-alike" in r.reason for r in rejects.items)
    catalog = tmp_path / "fake-catalog.jsonl"
    catalog.write_bytes(_jsonl([_artifact(1, id=fake), _artifact(2, derived_from=[fake]), _artifact(3)]))
    artifacts, _, rejects = _catalog(catalog)
    assert [a.id for a in artifacts] == ["art-3"]
    assert [r.reason.split(":")[0] for r in rejects.items] == ["id", "derived_from.0"]
    assert all("look-alike" in r.reason for r in rejects.items)


def test_upper_case_ids_are_folded(tmp_path: Path) -> None:
    path = tmp_path / "upper.jsonl"
    path.write_bytes(_jsonl([_search(1, results=[" FLUX-1-Pro ", "DALLE-3", "flux-1-pro"], clicks=["Dalle-3"])]))
    frame, _ = _logs(path)
    assert frame.row(0, named=True)["results"] == ["flux-1-pro", "dalle-3"]
    assert frame.row(0, named=True)["clicks"] == ["dalle-3"]
    assert Artifact.model_validate(_artifact(1, id="ART-One")).id == "art-one"


@pytest.mark.parametrize("stamp", ["2026-01-20 10:00:00", "2026-01-20T10:00:00", "2026-01-20T10:00:00Z",
                                   "2026-01-20T11:30:00+01:30", "2026-01-20T05:00:00-0500",
                                   "2026-01-20T10:00:00.000000Z", "2026-01-20t10:00z"])
def test_timestamp_forms_are_accepted(tmp_path: Path, stamp: str) -> None:
    path = tmp_path / "ts.jsonl"
    path.write_bytes(_jsonl([_search(1, ts=stamp), _search(2, ts="2026-01-20"),
                             _search(3, ts="2026-01-20T10:00:00.25Z")]))
    frame, rejects = _logs(path)
    assert len(rejects) == 0
    assert frame.get_column("ts").to_list() == [datetime(2026, 1, 20, 10, tzinfo=UTC),
                                                datetime(2026, 1, 20, tzinfo=UTC),
                                                datetime(2026, 1, 20, 10, 0, 0, 250_000, tzinfo=UTC)]


# --------------------------------------------------------------------------------------------
# Settings that the readers really apply
# --------------------------------------------------------------------------------------------

def test_read_limits_come_from_the_settings() -> None:
    assert ReadLimits() == ReadLimits.from_settings(Settings())
    custom = Settings(MATCHGRAPH_MAX_FIELD_CHARS=50, MATCHGRAPH_MAX_RESULTS=3,  # type: ignore[call-arg]
                      MATCHGRAPH_MAX_ID_CHARS=12, MATCHGRAPH_MAX_SIGNAL_VALUE=100)
    limits = ReadLimits.from_settings(custom)
    assert (limits.max_field_chars, limits.max_results, limits.max_id_chars, limits.max_signal_value) == (
        50, 3, 12, 100)


def test_the_readers_apply_the_settings(tmp_path: Path) -> None:
    limits = ReadLimits.from_settings(Settings(MATCHGRAPH_MAX_FIELD_CHARS=50, MATCHGRAPH_MAX_RESULTS=3,  # type: ignore[call-arg]
                                               MATCHGRAPH_MAX_ID_CHARS=12, MATCHGRAPH_MAX_SIGNAL_VALUE=100))
    path = tmp_path / "limits.jsonl"
    path.write_bytes(_jsonl([_search(1), _search(2, query="q" * 51), _search(3, results=["a", "b", "c", "d"]),
                             _search(4, results=["a-very-long-id"]), _search(5, search_id="s" * 13)]))
    frame, rejects = _logs(path, limits=limits)
    assert frame.get_column("search_id").to_list() == ["s1"]
    reasons = _reasons(rejects)
    assert "longer than 50 characters (MATCHGRAPH_MAX_FIELD_CHARS)" in reasons[2]
    assert "more than 3 ids (MATCHGRAPH_MAX_RESULTS)" in reasons[3]
    assert "longer than 12 characters" in reasons[4]
    assert "search_id: longer than 12" in reasons[5]
    catalog = tmp_path / "limits-catalog.jsonl"
    catalog.write_bytes(_jsonl([_artifact(1), _artifact(2, description="d" * 51), _artifact(300),
                                _artifact(4, id="a-very-long-id")]))
    artifacts, _, rejects = _catalog(catalog, limits=limits)
    assert [a.id for a in artifacts] == ["art-1"]
    assert [r.reason.split(":")[0] for r in rejects.items] == ["description", "signals.likes", "id"]
    assert Artifact.model_validate(_artifact(2, description="d" * 51)).description == "d" * 51  # default limits


def test_the_id_pattern_is_written_once() -> None:
    root = Path(__file__).resolve().parents[2]
    id_class = re.compile(r"(?<!A-Z)a-z0-9\._-")  # the id alphabet (a file-name class with A-Z is another thing)
    holders = sorted(p.relative_to(root).as_posix() for folder in ("graph", "ingest", "queries", "api")
                     for p in (root / folder).rglob("*.py") if id_class.search(p.read_text(encoding="utf-8")))
    assert holders == ["graph/schema.py"]
    assert ID_PATTERN == "^[a-z0-9][a-z0-9._-]*$"
    assert ArtifactId.__metadata__  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------
# The intent expression and its Python twin
# --------------------------------------------------------------------------------------------

CASEFOLD_CASES = ["Straße", "STRASSE", "ΟΔΟΣ", "οδος", "ﬁne ﬂow", "ᏣᎳᎩ ꮳꮃꭹ", "µ-law", "ǰ ŉ ΐ", "İstanbul",
                  "a\x1cb\x1fc", " \u3000 padded \u2028 text\u0085", "ẞ", "Ǆ ǅ ǆ", "K Å"]


def test_the_intent_expression_case_folds_like_python() -> None:
    frame = pl.DataFrame({"query": CASEFOLD_CASES})
    got = frame.select(normalize_intent_expr("query")).to_series().to_list()
    assert got == [normalize_intent(q) for q in CASEFOLD_CASES]
    assert got[0] == got[1] == "strasse"
    assert got[2] == got[3] == "οδοσ"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=300), min_size=1, max_size=20))
def test_the_intent_expression_matches_normalize_intent_on_any_text(queries: list[str]) -> None:
    frame = pl.DataFrame({"query": queries}, schema={"query": pl.String})
    got = frame.select(normalize_intent_expr("query")).to_series().to_list()
    assert got == [normalize_intent(q) for q in queries]


# --------------------------------------------------------------------------------------------
# Property tests: whatever the bytes, a reader answers with records, rejects, or BadFile
# --------------------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**45), max_value=10**45)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
FIELDS = ["search_id", "ts", "query", "results", "clicks", "session_id", "query_id", "user_query", "timestamp",
          "action_name", "event_attributes", "index", "query_response_hit_ids", "id", "name", "type", "signals",
          "capabilities", "derived_from", "price_input", "released"]
GOOD_VALUES = st.sampled_from(["2026-01-02T03:04:05Z", "2026-01-02", "flux-1-pro", "model", ["a", "b"], 1767323045000,
                               {"likes": 3}, [{"name": "x"}], {"_index": "ubi_events"}, "impression", "NaN"])
RECORDS = st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES | GOOD_VALUES, max_size=8)


def _line(value: object) -> bytes:
    return json.dumps(value).encode()


_SOME_VALUE = JSON_VALUES | GOOD_VALUES
NEAR_MISSES = st.one_of(
    st.builds(lambda i, k, v: {**_search(i), k: v}, st.integers(0, 50), st.sampled_from(FIELDS), _SOME_VALUE),
    st.builds(lambda i, k, v: {**_artifact(i), k: v}, st.integers(0, 50), st.sampled_from(FIELDS), _SOME_VALUE),
)
"""Valid records with one field replaced: most fuzzed lines are otherwise rejected for the wrong reason."""

LINES = st.one_of(
    NEAR_MISSES.map(_line),
    RECORDS.map(_line),
    JSON_VALUES.map(_line),
    st.binary(max_size=60),
    st.sampled_from([b"\x00\x00", b"[" * 3000, b'{"search_id": 1' + b"0" * 60 + b"}", b"\xef\xbb\xbf{}",
                     b'{"a": "\\ud800"}', b"\r", b'{"results": "x"}', b"\xff", "caf\u00e9\u200b".encode("utf-16")]),
)


def _compress(data: bytes, how: str) -> bytes:
    if how == "gzip":
        return gzip.compress(data)
    if how == "zstd":
        return zstandard.ZstdCompressor().compress(data)
    if how == "cut-gzip":
        packed = gzip.compress(data)
        return packed[: max(len(packed) * 2 // 3, 1)]
    if how == "deflate":  # a gzip header on a raw deflate body: damaged
        return b"\x1f\x8b\x08\x00" + zlib.compress(data)
    return data


def _check_searches(frame: pl.DataFrame) -> None:
    """What every accepted search holds, whatever the input was."""
    earliest, latest = DEFAULT_LIMITS.ts_window()
    for row in frame.iter_rows(named=True):
        assert row["search_id"]
        assert earliest <= row["ts"] <= latest
        assert row["query"] is not None
        assert row["results"]
        assert all(is_valid_id(i) for i in row["results"] + row["clicks"]), row
        assert len(set(row["results"])) == len(row["results"])


def _check_artifacts(artifacts: list[Artifact]) -> None:
    for art in artifacts:
        assert is_valid_id(art.id)
        numbers = [v for v in art.signals.model_dump().values() if v is not None]
        numbers += [v for v in (art.price_input, art.price_output) if v is not None]
        assert all(math.isfinite(v) and 0 <= v <= DEFAULT_LIMITS.max_signal_value for v in numbers)


def _read_everything(path: Path) -> None:
    """Every reader over one file; any exception but BadFile fails the test."""
    for fmt in (None, "native-jsonl", "native-csv", "parquet", "ubi"):
        try:
            frame, rejects = _logs(path, fmt, chunk_lines=7)
        except BadFile:
            continue
        _check_searches(frame)
        rejects.write(path.with_suffix(".rejects"))  # always writable as UTF-8
    for fmt in (None, "jsonl", "json", "csv", "parquet", *ADAPTERS):
        try:
            artifacts, read, rejects = _catalog(path, fmt)
        except BadFile:
            continue
        assert read >= len(artifacts)
        _check_artifacts(artifacts)
        rejects.write(path.with_suffix(".rejects"))


@FUZZ
@given(st.lists(LINES, max_size=12), st.sampled_from(["plain", "gzip", "zstd", "cut-gzip", "deflate"]),
       st.sampled_from([b"\n", b"\r\n"]))
def test_random_lines_never_raise_anything_but_bad_file(tmp_path: Path, lines: list[bytes], how: str,
                                                        end: bytes) -> None:
    path = tmp_path / "fuzz.in"
    path.write_bytes(_compress(end.join(lines), how))
    _read_everything(path)


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes_never_raise_anything_but_bad_file(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "bytes.in"
    for prefix in (b"", b"\x1f\x8b", b"\x28\xb5\x2f\xfd", b"PAR1", b"[", b"{\n", b"search_id,ts,query,results\n"):
        path.write_bytes(prefix + data)
        _read_everything(path)


CELLS = st.one_of(st.text(max_size=20), st.sampled_from(["inf", "nan", "-1", "1e400", "2026-01-02", "a;b;;C",
                                                          '"', '""', "\x00", "[{\"name\": 1}]", "ΟΔΟΣ"]))


@FUZZ
@given(st.lists(st.sampled_from(["search_id", "ts", "query", "results", "clicks", "session_id", "id", "name",
                                 "type", "likes", "signals.stars", "capabilities", "model_name",
                                 "metadata_base_model", "metadata_hub_hearts", "github_id", "star_count",
                                 "pypi_monthly_downloads"]), min_size=1, max_size=8),
       st.lists(st.lists(CELLS, max_size=9), max_size=8))
def test_random_csv_never_raises_anything_but_bad_file(tmp_path: Path, header: list[str],
                                                       rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    path = tmp_path / "fuzz.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    _read_everything(path)


PARQUET_COLUMNS = st.sampled_from([
    pl.Series([1, None, 3]), pl.Series(["2026-01-02", "x", None]), pl.Series([[1, 2], None, []]),
    pl.Series([["a", "B"], ["\u043e"], None]), pl.Series([1.5, float("inf"), float("nan")]),
    pl.Series([{"likes": 1.0}, {"likes": float("inf")}, None]), pl.Series([True, False, None]),
    pl.Series([datetime(2026, 1, 2), datetime(9999, 1, 1), None]), pl.Series([b"\xff", b"ok", None]),
    pl.Series([date(2026, 1, 2), None, date(1900, 1, 1)]),
])


@FUZZ
@given(st.dictionaries(st.sampled_from(["search_id", "ts", "query", "results", "clicks", "session_id", "id", "name",
                                        "type", "signals", "derived_from", "capabilities"]),
                       PARQUET_COLUMNS, max_size=7))
def test_random_parquet_never_raises_anything_but_bad_file(tmp_path: Path, columns: dict[str, pl.Series]) -> None:
    path = tmp_path / "fuzz.parquet"
    pl.DataFrame({name: series.alias(name) for name, series in columns.items()}).write_parquet(path)
    _read_everything(path)
