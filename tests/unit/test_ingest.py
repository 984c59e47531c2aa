"""Readers, validation and rejects: bad records are set aside with reasons, good ones go in."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import polars as pl
import pytest
import zstandard

from graph.embedded import EmbeddedStore
from graph.schema import normalize_intent, slugify
from graph.schema import normalize_intent_expr as intent_expr
from graph.settings import Settings
from graph.tables import Table
from ingest.catalog import read_catalog
from ingest.logs import SeenIds, read_logs
from ingest.pipeline import ingest_catalogs, ingest_logs
from ingest.rejects import Rejects
from tests.fixtures import CATALOG, SEARCHES, write_jsonl

GOOD = json.dumps(SEARCHES[0])


def _rejects_file(report_path: Path | None) -> list[dict[str, object]]:
    assert report_path is not None
    return [json.loads(line) for line in report_path.read_text().splitlines()]


def test_slug_and_intent_normalization() -> None:
    assert slugify("meta-llama/Llama-3.1-8B") == "meta-llama-llama-3.1-8b"
    assert slugify("FLUX.1 [pro]") == "flux.1-pro"
    assert normalize_intent("  Text\tTO  Ｉmage ") == "text to image"
    frame = pl.DataFrame({"query": ["  Text\tTO  Ｉmage "]})
    assert frame.select(intent_expr()).item() == normalize_intent("  Text\tTO  Ｉmage ")


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "parquet"])
def test_catalog_formats_read_the_same_artifacts(tmp_path: Path, fmt: str) -> None:
    rows = CATALOG[:4]
    path = tmp_path / f"catalog.{fmt}"
    if fmt == "jsonl":
        write_jsonl(path, rows)
    elif fmt == "json":
        path.write_text(json.dumps(rows))
    else:
        flat = [{"id": r["id"], "name": r["name"], "type": r["type"], "pricing": r.get("pricing"),
                 "provider": r.get("provider"), "likes": (r.get("signals") or {}).get("likes"),
                 "capabilities": json.dumps(r.get("capabilities", [])),
                 "derived_from": ";".join(r.get("derived_from", []))} for r in rows]
        frame = pl.DataFrame(flat)
        if fmt == "csv":
            frame.write_csv(path)
        else:
            frame = frame.with_columns(pl.col("capabilities").str.json_decode(
                pl.List(pl.Struct({"name": pl.String, "description": pl.String, "unique": pl.String,
                                   "vs_alternatives": pl.String, "tags": pl.List(pl.String)}))),
                pl.col("derived_from").str.split(";").list.filter(pl.element() != ""))
            frame = frame.with_columns(pl.struct(pl.col("likes")).alias("signals")).drop("likes")
            frame.write_parquet(path)
    rejects = Rejects()
    artifacts, total = read_catalog(path, rejects)
    assert total == 4
    assert len(rejects) == 0, rejects.items
    by_id = {a.id: a for a in artifacts}
    assert by_id["flux-1-pro"].signals.likes == 500.0
    assert [c.name for c in by_id["flux-1-pro"].capabilities] == ["Text to image", "Inpainting"]
    assert by_id["dalle-3"].pricing == "paid"


def test_catalog_rejects_with_reasons(tmp_path: Path, settings: Settings) -> None:
    lines = [
        json.dumps(CATALOG[0]),
        '{"id": "x\\"}) DETACH DELETE n //", "name": "x", "type": "model"}',
        '{"id": "ok-2", "name": "ok", "type": "spaceship"}',
        '{"id": "ok-3", "type": "model"}',
        '{"id": "ok-4", "name": "ok", "type": "model", "pricing": "cheap"}',
        "{truncated",
        json.dumps(CATALOG[0]),
        json.dumps({**CATALOG[1], "signals": {"likes": -3}}),
        json.dumps(CATALOG[2]),
    ]
    path = tmp_path / "cat.jsonl"
    path.write_text("\n".join(lines) + "\n")
    store = EmbeddedStore(settings.home)
    report = ingest_catalogs(store, [path], settings)
    assert (report.read, report.ingested, report.rejected) == (9, 2, 7)
    rejects = _rejects_file(report.rejects_path)
    reasons = {r["line"]: r["reason"] for r in rejects}
    assert "id" in reasons[2]
    assert "pattern" in reasons[2]
    assert "type" in reasons[3]
    assert "name" in reasons[4]
    assert "required" in reasons[4].lower()
    assert "pricing" in reasons[5]
    assert "not valid JSON" in reasons[6]
    assert "duplicate" in reasons[7]
    assert "likes" in reasons[8]
    assert all(r["source"] == str(path) for r in rejects)
    assert json.loads(next(r["raw"] for r in rejects if r["line"] == 3))["type"] == "spaceship"
    assert sorted(store.table(Table.ARTIFACTS).get_column("id").to_list()) == ["dalle-3", "flux-1-pro"]


BAD_LOG_LINES = [
    ("{\"search_id\": \"t1\"", "not valid JSON"),  # truncated
    ('{"search_id": "t2", "ts": "2026-01-01T00:00:00Z", "query": "q", "results": "flux-1-pro"}', "results"),
    ('{"search_id": "t3", "ts": "2026-01-01T00:00:00Z", "query": 7, "results": ["a"]}', "query"),
    ('{"search_id": "t4", "ts": "not a time", "query": "q", "results": ["a"]}', "ts"),
    ('{"search_id": "t5", "ts": "2026-01-01T00:00:00Z", "query": "q", "results": []}', "results"),
    ('{"search_id": "t6", "ts": "2026-01-01T00:00:00Z", "query": "q", "results": ["a\\"}) DETACH DELETE n"]}',
     "results"),
    ('{"search_id": "t7", "ts": "2026-01-01T00:00:00Z", "query": "q", "results": [NaN]}', "not valid JSON"),
    ('{"search_id": "t8", "ts": "2026-01-01T00:00:00Z", "query": "' + "x" * 20_000 + '", "results": ["a"]}',
     "query"),
    ('{"ts": "2026-01-01T00:00:00Z", "query": "q", "results": ["a"]}', "search_id"),
    (json.dumps(SEARCHES[0]), "duplicate"),
]


def test_log_rejects_keep_the_good_records_around_them(tmp_path: Path, settings: Settings) -> None:
    raw = [json.dumps(s).encode() for s in SEARCHES[:2]]
    raw += [line.encode() for line, _ in BAD_LOG_LINES]
    raw.insert(3, b'{"search_id": "bad-utf8", "query": "\xff\xfe", "ts": "2026-01-01T00:00:00Z", "results": ["a"]}')
    raw += [b"", json.dumps(SEARCHES[2]).encode(), json.dumps(SEARCHES[3]).encode()]
    path = tmp_path / "logs.jsonl"
    path.write_bytes(b"\n".join(raw) + b"\n")
    store = EmbeddedStore(settings.home)
    report = ingest_logs(store, [path], settings)
    assert report.ingested == 4
    assert report.rejected == len(BAD_LOG_LINES) + 1
    rejects = _rejects_file(report.rejects_path)
    by_line = {r["line"]: r["reason"] for r in rejects}
    assert "UTF-8" in by_line[4]
    expected_lines = [3] + list(range(5, 5 + len(BAD_LOG_LINES) - 1))
    for line_no, (_, expected) in zip(expected_lines, BAD_LOG_LINES, strict=True):
        assert expected in by_line[line_no], (line_no, by_line[line_no])
    assert len(next(r["raw"] for r in rejects if r["line"] == 11)) < 5_000  # huge raw text is clipped
    assert store.table(Table.LEDGER).get_column("rows").to_list() == [4]
    flux = store.table(Table.MATCHED).filter(pl.col("artifact") == "flux-1-pro").get_column("count").sum()
    assert flux == 2


def test_clean_chunk_takes_the_fast_path_and_reads_everything(tmp_path: Path) -> None:
    lines = [json.dumps({**SEARCHES[0], "search_id": f"id{i}"}) for i in range(5000)]
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(lines))  # no final newline
    rejects = Rejects()
    frames = list(read_logs(path, rejects, SeenIds()))
    assert sum(f.height for f in frames) == 5000
    assert len(rejects) == 0
    first = frames[0].row(0, named=True)
    assert first["results"] == ["flux-1-pro", "dalle-3", "sdxl"]
    assert first["ts"].isoformat() == "2026-01-01T12:00:00+00:00"


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_compressed_logs_read_transparently(tmp_path: Path, settings: Settings, compression: str) -> None:
    data = "".join(json.dumps(s) + "\n" for s in SEARCHES).encode()
    path = tmp_path / f"logs.jsonl.{compression}"
    path.write_bytes(gzip.compress(data) if compression == "gzip" else zstandard.ZstdCompressor().compress(data))
    store = EmbeddedStore(settings.home)
    report = ingest_logs(store, [path], settings)
    assert report.ingested == 4
    assert store.table(Table.INTENTS).height == 3


def test_parquet_logs(tmp_path: Path, settings: Settings) -> None:
    frame = pl.DataFrame(SEARCHES).with_columns(pl.col("ts").str.to_datetime(time_zone="UTC"))
    path = tmp_path / "logs.parquet"
    frame.write_parquet(path)
    store = EmbeddedStore(settings.home)
    report = ingest_logs(store, [path], settings)
    assert report.ingested == 4
    co = {(r["a"], r["b"]): r["count"] for r in store.table(Table.CO_MATCHED).to_dicts()}
    assert co[("dalle-3", "flux-1-pro")] == 2


def test_unreadable_input_is_a_clear_reason_and_the_rest_goes_in(tmp_path: Path, settings: Settings) -> None:
    store = EmbeddedStore(settings.home)
    good = tmp_path / "good.jsonl"
    good.write_text(GOOD + "\n")
    big = tmp_path / "big.jsonl"
    big.write_text("".join(json.dumps(s) + "\n" for s in SEARCHES))
    limit = settings.model_copy(update={"max_input_bytes": len(GOOD) + 10})
    report = ingest_logs(store, [tmp_path / "missing.jsonl", big, good], limit)
    statuses = [f.status for f in report.files]
    assert statuses[0].startswith("failed: cannot be read")
    assert statuses[1].startswith("failed: ")
    assert "over the limit" in statuses[1]
    assert statuses[2] == "ingested"
    assert report.ingested == 1
    rejects = report.rejects_path.read_text()  # type: ignore[union-attr]
    assert "missing.jsonl" in rejects
    assert "MATCHGRAPH_MAX_INPUT_BYTES" in rejects


def test_csv_logs_read_like_jsonl_and_reject_bad_rows(tmp_path: Path, settings: Settings) -> None:
    header = "search_id,ts,query,results,clicks,session_id"
    rows = [f'{s["search_id"]},{s["ts"]},"{s["query"]}",{";".join(s["results"])},{";".join(s["clicks"])},'
            f'{s["session_id"] or ""}' for s in SEARCHES]
    bad = ['bad-1,2026-01-01T00:00:00Z,q,a,b,c,d,e', "bad-2,not-a-time,q,a,,",
           'bad-3,2026-01-01T00:00:00Z,q,"x""}) DETACH",,']
    path = tmp_path / "logs.csv"
    path.write_text("\n".join([header, rows[0], *bad, *rows[1:]]) + "\n")
    csv_store = EmbeddedStore(tmp_path / "csv")
    report = ingest_logs(csv_store, [path], settings)
    assert (report.read, report.ingested, report.rejected) == (7, 4, 3)
    reasons = {r["line"]: r["reason"] for r in _rejects_file(report.rejects_path)}
    assert "malformed CSV row" in reasons[3]
    assert "ts" in reasons[4]
    assert "results" in reasons[5]
    json_store = EmbeddedStore(tmp_path / "json")
    ingest_logs(json_store, [write_jsonl(tmp_path / "logs.jsonl", SEARCHES)], settings)
    for table in (Table.MATCHED, Table.CO_MATCHED, Table.PREFERRED_OVER, Table.DAILY, Table.INTENTS):
        key = list(csv_store.table(table).columns[:2])
        assert csv_store.table(table).sort(key).equals(json_store.table(table).sort(key)), table


def test_seen_ids_find_repeats_across_every_tier() -> None:
    seen = SeenIds()
    for start in range(0, 1_000, 100):
        seen.add(pl.Series("search_id", [f"s{i}" for i in range(start, start + 100)]))
    assert len(seen) == 1_000
    assert len(seen.tiers) < 10  # merged into size tiers, not one frame per chunk
    probe = pl.Series("search_id", ["s0", "s999", "s1000", None, "s550"])
    assert seen.repeated(probe).to_list() == [True, True, False, False, True]


def test_aggregates_do_not_depend_on_how_blocks_are_combined(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parts combined after every block, or once at the end, or merged from per-file aggregators:
    the same delta, table for table."""
    from graph.tables import KEYS, Table
    from ingest import aggregate
    from ingest.synth import synth_catalog, synth_searches

    catalog = synth_catalog(60, seed=4)
    frames = [synth_searches(catalog, 500, seed=s, id_prefix=f"r{s}-")[0] for s in (1, 2, 3)]

    def tables(agg: aggregate.Aggregator) -> dict[Table, list[dict[str, object]]]:
        delta = agg.delta()
        return {t: f.sort(list(KEYS[t])).to_dicts() for t, f in delta.tables.items()}

    once = aggregate.Aggregator()
    for frame in frames:
        once.add(frame)
    monkeypatch.setattr(aggregate, "COMPACT_ROWS", 10)
    often = aggregate.Aggregator()
    for frame in frames:
        often.add(frame)
    merged = aggregate.Aggregator()
    for frame in reversed(frames):
        one = aggregate.Aggregator()
        one.add(frame)
        merged.absorb(one)
    assert tables(often) == tables(once)
    assert tables(merged) == tables(once)
    assert len(tables(once)[Table.CO_MATCHED]) > 100


def test_distinct_sessions_are_counted_over_the_whole_file_whatever_the_block_size(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A session whose searches fall in two blocks of one file counts once per (artifact, day): the
    stored sessions are the file's distinct sessions, computed here from the raw lines, with blocks
    of 700 lines (which cut sessions) as with the whole file in one block."""
    from ingest import aggregate, pipeline
    from ingest.synth import write_synth

    _, log = write_synth(tmp_path / "gen", n_artifacts=200, n_searches=6_000, seed=5, per_file=6_000)
    raw = pl.read_ndjson(log)
    expected = (
        raw.select(pl.coalesce(pl.col("session_id"), pl.lit("search:") + pl.col("search_id")).alias("session"),
                   pl.col("ts").str.to_datetime(time_zone="UTC").dt.date().alias("day"), pl.col("results"))
        .explode("results").rename({"results": "artifact"})
        .group_by("artifact", "day").agg(pl.col("session").n_unique().cast(pl.Int64).alias("sessions"))
        .sort("artifact", "day")
    )
    monkeypatch.setattr(aggregate, "COMPACT_ROWS", 2_000)
    stored = {}
    for name, block in (("whole", 1_000_000), ("blocks", 700)):
        monkeypatch.setattr(pipeline, "BLOCK_LINES", block)
        home = tmp_path / name
        store = EmbeddedStore(home)
        report = ingest_logs(store, [log], Settings(MATCHGRAPH_HOME=home, NEO4J_URI=None))  # type: ignore[call-arg]
        assert report.ingested == 6_000
        stored[name] = store.table(Table.DAILY).select("artifact", "day", "sessions").sort("artifact", "day")
    assert stored["whole"].equals(expected)
    assert stored["blocks"].equals(expected)
    # the synthetic sessions do span blocks: counted per block they would add up to more
    per_block = (raw.with_row_index("line").with_columns((pl.col("line") // 700).alias("block"))
                 .select("block", "session_id", pl.col("ts").str.to_datetime(time_zone="UTC").dt.date().alias("day"),
                         "results").explode("results")
                 .group_by("block", "results", "day").agg(pl.col("session_id").n_unique()))
    assert per_block.get_column("session_id").sum() > expected.get_column("sessions").sum()


def test_the_same_searches_in_files_of_any_size_store_the_same_aggregates(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """One synthetic log ingested whole, in equal files, and in uneven files across several writes,
    with blocks and compactions small enough to fall inside files: the stored aggregates agree, table
    for table (distinct sessions per day excepted: they are counted per file and a session cut by a
    file boundary counts in both, as documented)."""
    from graph.tables import KEYS
    from ingest import aggregate, pipeline
    from ingest.synth import write_synth

    monkeypatch.setattr(pipeline, "BLOCK_LINES", 700)
    monkeypatch.setattr(aggregate, "COMPACT_ROWS", 2_000)
    _, log = write_synth(tmp_path / "gen", n_artifacts=200, n_searches=6_000, seed=5, per_file=6_000)
    lines = log.read_text("utf-8").splitlines(keepends=True)

    def stored(name: str, sizes: list[int], batch: int) -> tuple[dict[Table, pl.DataFrame], int]:
        """The aggregates the store holds after ingesting ``lines`` cut into files of ``sizes``, and
        the number of writes that took."""
        assert sum(sizes) == len(lines)
        folder = tmp_path / name
        folder.mkdir()
        files, start = [], 0
        for n, size in enumerate(sizes):
            files.append(folder / f"part-{n}.jsonl")
            files[-1].write_text("".join(lines[start:start + size]), "utf-8")
            start += size
        settings = Settings(MATCHGRAPH_HOME=folder / "home", MATCHGRAPH_WRITE_BATCH_SEARCHES=batch,
                            NEO4J_URI=None)  # type: ignore[call-arg]
        store = EmbeddedStore(folder / "home")
        report = ingest_logs(store, files, settings)
        assert report.ingested == len(lines)
        tables = {t: store.table(t).sort(list(KEYS[t])) for t in
                  (Table.INTENTS, Table.MATCHED, Table.CO_MATCHED, Table.PREFERRED_OVER, Table.INTENT_PREFERENCES,
                   Table.TOTALS, Table.ARTIFACTS)}
        tables[Table.DAILY] = store.table(Table.DAILY).select("artifact", "day", "matched", "clicks").sort(
            "artifact", "day")
        return tables, report.writes

    whole, writes = stored("whole", [6_000], batch=1_000_000)
    assert writes == 1
    for name, sizes, batch, expected_writes in (("equal", [1_000] * 6, 1_000_000, 1),
                                                ("uneven", [37, 2_963, 1_250, 1, 1_749], 2_500, 2)):
        split, writes = stored(name, sizes, batch)
        assert writes == expected_writes
        for table, frame in whole.items():
            assert split[table].equals(frame), (name, table)
    assert whole[Table.CO_MATCHED].height > 1_000
    assert whole[Table.PREFERRED_OVER].height > 1_000
    assert whole[Table.INTENTS].get_column("searches").sum() == len(lines)
