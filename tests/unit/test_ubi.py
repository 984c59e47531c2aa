"""Reading OpenSearch User Behavior Insights logs: the real sample file, both layouts, bad lines, gzip."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from graph.embedded import EmbeddedStore
from graph.settings import Settings
from graph.tables import Table
from ingest.logs import SeenIds, detect_log_format, read_logs
from ingest.pipeline import ingest_logs
from ingest.rejects import Rejects
from ingest.ubi import CHOICE_ACTIONS, NO_RESULTS, read_ubi

ROOT = Path(__file__).resolve().parents[2]
UBI = Path("/work/shared/data/ubi/ubi_queries_events.ndjson")
needs_file = pytest.mark.skipif(not UBI.exists(), reason=f"{UBI} is not present")

Doc = dict[str, Any]


def _read(path: Path, chunk_lines: int = 100_000) -> tuple[pl.DataFrame, Rejects]:
    rejects = Rejects()
    frames = list(read_ubi(path, rejects, SeenIds(), chunk_lines))
    frame = pl.concat(frames) if frames else pl.DataFrame()
    return frame.sort("search_id"), rejects


def _bulk_docs(path: Path) -> tuple[list[tuple[int, Doc]], list[tuple[int, Doc]]]:
    """(line, doc) of the query and of the event documents, told apart by their action lines."""
    queries: list[tuple[int, Doc]] = []
    events: list[tuple[int, Doc]] = []
    index = ""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        doc = json.loads(line)
        if "index" in doc:
            index = doc["index"]["_index"]
        else:
            (queries if index == "ubi_queries" else events).append((number, doc))
    return queries, events


def _object(event: Doc) -> str | None:
    obj = (event.get("event_attributes") or {}).get("object") or {}
    oid = obj.get("object_id")
    return None if oid is None else str(oid).strip().lower()


def _expected(queries: list[tuple[int, Doc]], events: list[tuple[int, Doc]]) -> dict[str, tuple[list[str], set[str]]]:
    """query_id -> (results in rank order, chosen ids), with plain Python over the documents."""
    shown: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    chosen: dict[str, set[str]] = defaultdict(set)
    for line, e in events:
        oid, qid = _object(e), e.get("query_id")
        if oid is None or qid is None:
            continue
        if e["action_name"] == "impression":
            shown[qid].append((e["event_attributes"]["position"]["ordinal"], line, oid))
        elif e["action_name"] in CHOICE_ACTIONS:
            chosen[qid].add(oid)
    hits: dict[str, list[str]] = {}
    for _, q in sorted(queries, key=lambda item: (item[1]["timestamp"], item[0])):
        if q.get("query_response_hit_ids") and q["query_id"] not in hits:
            hits[q["query_id"]] = [h.lower() for h in q["query_response_hit_ids"]]
    out = {}
    for qid in {q["query_id"] for _, q in queries} | {e["query_id"] for _, e in events if e.get("query_id")}:
        ranked = [oid for _, _, oid in sorted(shown[qid])] or hits.get(qid, [])
        out[qid] = (list(dict.fromkeys(ranked)), chosen[qid])
    return out


@needs_file
def test_real_file_accounts_for_every_document() -> None:
    queries, events = _bulk_docs(UBI)
    assert (len(queries), len(events)) == (473, 3448)
    qids = {q["query_id"] for _, q in queries} | {e["query_id"] for _, e in events if e.get("query_id")}
    frame, rejects = _read(UBI)
    assert detect_log_format(UBI) == "ubi"
    search_rejects = {json.loads(r.raw)["search_id"]: r for r in rejects.items if r.raw.startswith('{"search_id"')}
    doc_rejects = {r.line: r for r in rejects.items if not r.raw.startswith('{"search_id"')}
    ingested = set(frame.get_column("search_id").to_list())
    # one search per distinct query_id: ingested, or rejected once with a reason
    assert len(qids) == 764
    assert ingested | set(search_rejects) == qids
    assert not ingested & set(search_rejects)
    assert frame.height == 283
    assert sum(r.reason == NO_RESULTS for r in search_rejects.values()) == 480
    # every document either belongs to one of those searches or is a reject of its own line
    for line, doc in queries + events:
        assert doc.get("query_id") in qids or line in doc_rejects, line
    assert sorted(doc_rejects) == sorted(line for line, e in events if not e.get("query_id"))
    assert all("query_id: missing" in r.reason for r in doc_rejects.values())
    # a search's record number is the line of its first document
    first_line: dict[str, int] = {}
    for line, doc in sorted(queries + events, key=lambda item: item[0]):
        if doc.get("query_id"):
            first_line.setdefault(doc["query_id"], line)
    assert all(r.line == first_line[qid] for qid, r in search_rejects.items())


@needs_file
def test_real_file_results_and_clicks() -> None:
    queries, events = _bulk_docs(UBI)
    frame, _ = _read(UBI)
    rows = {r["search_id"]: r for r in frame.iter_rows(named=True)}
    ps4 = rows["6610ec99-2271-4fe6-a4ca-d03546b0112d"]  # ESCI sample: ordinals 0..4
    assert ps4["query"] == "ps4"
    assert ps4["results"] == ["b07yldntkb", "b06zxxblrl", "b08gpzw3fb", "b088zqyvzx", "b07d8xbhpr"]
    assert ps4["clicks"] == ["b08gpzw3fb"]
    assert ps4["session_id"] == "87d82faf-6601-4b7d-9aa7-b45d7403dffa"  # the events' session, not the client
    headphones = rows["c4493dca-9a18-420d-a89b-04c3f704918f"]
    assert headphones["results"] == ["b07hhtlhhn", "b087pv9fg8", "b082hm4jb4", "b083sbqwrs", "b0828ncgqp"]
    assert headphones["clicks"] == ["b087pv9fg8", "b083sbqwrs"]
    toner = rows["f3510b4f-6377-4c4c-b9f9-0f789159ee8b"]  # Chorus: six query docs, ordinals from 1
    assert toner["query"] == "printer toner"
    assert toner["ts"].isoformat() == "2025-01-24T07:31:30.699000+00:00"
    assert toner["results"] == ["b01hu24eti", "b07641mhv2", "b01bgzss6u", "b07bb52h2r",
                                "b07bb5fds2", "b00g3q2khg", "b08g4q2ry9", "b07mhvl611"]
    assert sorted(toner["clicks"]) == ["b001c3ckra", "b018is01gs", "b071y72mnw", "b07blgt3hb", "b0811fv57c"]
    # every ingested search against a plain-Python reading of the same documents
    expected = _expected(queries, events)
    for qid, row in rows.items():
        assert row["results"] == expected[qid][0], qid
        assert set(row["clicks"]) == expected[qid][1], qid
    # clicks: one per distinct (query_id, object) among choice events of the ingested searches
    pairs = {(e["query_id"], _object(e)) for _, e in events
             if e["action_name"] in CHOICE_ACTIONS and _object(e) and e.get("query_id") in rows}
    assert frame.get_column("clicks").list.len().sum() == len(pairs) == 186
    assert frame.get_column("results").list.len().sum() == 2383


@needs_file
def test_real_file_through_the_pipeline(settings: Settings, embedded: EmbeddedStore) -> None:
    queries, events = _bulk_docs(UBI)
    frame, _ = _read(UBI)
    expected = _expected(queries, events)
    ingested = set(frame.get_column("search_id").to_list())
    target = "b077vqyjq9"  # the gold cross necklace of the Chorus demo
    listed = sum(target in expected[q][0] for q in ingested)
    clicked = sum(target in expected[q][1] for q in ingested)
    assert (listed, clicked) == (14, 8)
    report = ingest_logs(embedded, [UBI], settings, "ubi")
    assert report.ingested == 283
    assert report.rejected == 480 + 1 + 2
    matched = embedded.table(Table.MATCHED).filter(pl.col("artifact") == target)
    assert matched.get_column("count").sum() == listed
    assert matched.get_column("clicks").sum() == clicked
    assert embedded.table(Table.INTENTS).get_column("searches").sum() == 283


# A hand-written sample: (kind, document) in file order.
SAMPLE: list[tuple[str, Doc]] = [
    ("ubi_queries", {"application": "t", "query_id": "q1", "client_id": "c1", "user_query": "Text To Image",
                     "timestamp": "2026-01-02T03:04:05Z", "query_attributes": {}}),
    ("ubi_events", {"action_name": "impression", "query_id": "q1", "session_id": "s1", "client_id": "c1",
                    "timestamp": "2026-01-02T03:04:06Z",
                    "event_attributes": {"object": {"object_id": "SDXL"}, "position": {"ordinal": 3}}}),
    ("ubi_events", {"action_name": "impression", "query_id": "q1", "session_id": "s1", "client_id": "c1",
                    "timestamp": "2026-01-02T03:04:06Z",
                    "event_attributes": {"object": {"object_id": "FLUX-1-Pro"}, "position": {"ordinal": 1}}}),
    ("ubi_events", {"action_name": "impression", "query_id": "q1", "session_id": "s1", "client_id": "c1",
                    "timestamp": "2026-01-02T03:04:06Z",
                    "event_attributes": {"object": {"object_id": "dalle-3"}, "position": {"ordinal": 2}}}),
    ("ubi_events", {"action_name": "click", "query_id": "q1", "session_id": "s1", "timestamp": "2026-01-02T03:04:09Z",
                    "event_attributes": {"object": {"object_id": "dalle-3"}, "position": {"ordinal": 2}}}),
    ("ubi_events", {"action_name": "add_to_cart", "query_id": "q1", "session_id": "s1",
                    "timestamp": "2026-01-02T03:04:10Z", "event_attributes": {"object": {"object_id": "DALLE-3"}}}),
    ("ubi_events", {"action_name": "product_hover", "query_id": "q1", "session_id": "s1",
                    "timestamp": "2026-01-02T03:04:08Z", "event_attributes": {"object": {"object_id": "sdxl"}}}),
    ("ubi_queries", {"application": "t", "query_id": "q2", "client_id": "c2", "user_query": "speech to text",
                     "timestamp": 1767323045000, "query_response_hit_ids": ["Whisper-Large-v3", "nova-2"]}),
    ("ubi_events", {"action_name": "impression", "query_id": "q3", "client_id": "c3", "user_query": "upscale",
                    "timestamp": "2026-01-03T00:00:02Z",
                    "event_attributes": {"object": {"object_id": "esrgan"}, "position": {"ordinal": 1}}}),
    ("ubi_events", {"action_name": "impression", "query_id": "q3", "client_id": "c3", "user_query": "upscale 4x",
                    "timestamp": "2026-01-03T00:00:01Z",
                    "event_attributes": {"object": {"object_id": "swinir"}, "position": {"ordinal": 0}}}),
    ("ubi_events", {"action_name": "purchase", "query_id": "q3", "client_id": "c3", "timestamp": "2026-01-03T00:00:05Z",
                    "event_attributes": {"object": {"object_id": "esrgan"}}}),
    ("ubi_queries", {"application": "t", "query_id": "q4", "client_id": "c4", "user_query": "nothing shown",
                     "timestamp": "2026-01-04T00:00:00Z", "query_response_hit_ids": []}),
]
EXPECTED = {
    "q1": ("text to image", ["flux-1-pro", "dalle-3", "sdxl"], ["dalle-3"], "s1"),
    "q2": ("speech to text", ["whisper-large-v3", "nova-2"], [], "c2"),
    "q3": ("upscale 4x", ["swinir", "esrgan"], ["esrgan"], "c3"),
}


def _bulk(docs: list[tuple[str, Doc]]) -> list[str]:
    lines = []
    for number, (index, doc) in enumerate(docs):
        lines.append(json.dumps({"index": {"_index": index, "_id": f"d{number}"}}))
        lines.append(json.dumps(doc))
    return lines


def _check_sample(frame: pl.DataFrame) -> None:
    got = {r["search_id"]: (r["query"].lower(), r["results"], r["clicks"], r["session_id"])
           for r in frame.iter_rows(named=True)}
    assert got == EXPECTED
    q2 = frame.filter(pl.col("search_id") == "q2").get_column("ts").item()
    assert q2.isoformat() == "2026-01-02T03:04:05+00:00"  # integer timestamps are epoch milliseconds


@pytest.mark.parametrize("chunk_lines", [3, 100_000])
def test_plain_and_bulk_layouts_give_the_same_frame(tmp_path: Path, chunk_lines: int) -> None:
    plain, bulk = tmp_path / "plain.ndjson", tmp_path / "bulk.ndjson"
    plain.write_text("\n".join(json.dumps(doc) for _, doc in SAMPLE) + "\n")
    bulk.write_text("\n".join(_bulk(SAMPLE)) + "\n")
    assert detect_log_format(plain) == detect_log_format(bulk) == "ubi"
    from_plain, plain_rejects = _read(plain, chunk_lines)
    from_bulk, bulk_rejects = _read(bulk, chunk_lines)
    _check_sample(from_plain)
    assert from_plain.equals(from_bulk)
    assert [(r.line, r.reason) for r in plain_rejects.items] == [(12, NO_RESULTS)]
    assert [(r.line, r.reason) for r in bulk_rejects.items] == [(24, NO_RESULTS)]


def test_detect_leaves_native_logs_alone(tmp_path: Path) -> None:
    native = tmp_path / "native.jsonl"
    native.write_text(json.dumps({"search_id": "s1", "query_id": "x", "user_query": "a", "ts": "2026-01-01",
                                  "query": "a", "results": ["a"]}) + "\n")
    assert detect_log_format(native) == "native-jsonl"


CYPHER = 'x"}) DETACH DELETE n //'


def test_bad_lines_are_rejected_and_the_good_ones_kept(tmp_path: Path) -> None:
    bad: list[tuple[str, Doc | str, str]] = [
        ("ubi_events", '{"action_name": "impression", "query_id": "q1", "event_attr', "not valid JSON"),
        ("ubi_events", {"action_name": "impression", "query_id": "q1", "timestamp": "2026-01-02T03:04:06Z",
                        "event_attributes": {"object": {"object_id": "gpt-4o"}, "position": {"ordinal": -1}}},
         "event_attributes.position.ordinal"),
        ("ubi_events", {"action_name": "impression", "query_id": "q6", "user_query": "evil",
                        "timestamp": "2026-01-02T03:04:06Z",
                        "event_attributes": {"object": {"object_id": CYPHER}, "position": {"ordinal": 1}}},
         "results: holds a value that is not an artifact id"),
        ("ubi_queries", {"query_id": "q7", "user_query": "typed", "timestamp": True}, "timestamp"),
        ("ubi_events", {"action_name": "click", "query_id": ["q1"], "timestamp": "2026-01-02T03:04:06Z"}, "query_id"),
        ("ubi_queries", {"query_id": "q8", "user_query": "when", "timestamp": "yesterday-ish"}, "timestamp"),
    ]
    docs: list[tuple[str, Doc | str]] = [*SAMPLE[:4], *[(k, d) for k, d, _ in bad], *SAMPLE[4:]]
    lines = []
    for index, doc in docs:
        lines.append(json.dumps({"index": {"_index": index}}))
        lines.append(doc if isinstance(doc, str) else json.dumps(doc))
    lines.insert(0, '{"index": {"_index": "ubi_q')  # a broken action line: the query doc is told by its fields
    path = tmp_path / "bad.ndjson"
    path.write_text("\n".join(lines) + "\n")
    frame, rejects = _read(path)
    _check_sample(frame)
    by_line = {r.line: r.reason for r in rejects.items}
    assert "not valid JSON" in by_line.pop(1)
    assert by_line.pop(max(by_line)) == NO_RESULTS  # q4
    expected_lines = [2 + 2 * (4 + i) + 1 for i in range(len(bad))]
    assert sorted(by_line) == expected_lines
    for line, (_, _, why) in zip(expected_lines, bad, strict=True):
        assert why in by_line[line], (line, by_line[line])
    cypher = next(r for r in rejects.items if "q6" in r.raw)
    assert CYPHER.lower() in json.loads(cypher.raw)["results"]


def test_gzip_input(tmp_path: Path) -> None:
    plain = tmp_path / "sample.ndjson"
    plain.write_text("\n".join(_bulk(SAMPLE)) + "\n")
    packed = tmp_path / "sample.ndjson.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert detect_log_format(packed) == "ubi"
    frame, _ = _read(packed)
    _check_sample(frame)
    rejects = Rejects()
    assert pl.concat(list(read_logs(packed, rejects, SeenIds(), "ubi"))).sort("search_id").equals(frame)


@needs_file
def test_real_file_gzipped_and_in_small_chunks_reads_the_same(tmp_path: Path) -> None:
    packed = tmp_path / "ubi.ndjson.gz"
    packed.write_bytes(gzip.compress(UBI.read_bytes()))
    whole = _read(UBI)[0]
    assert _read(packed)[0].equals(whole)
    assert _read(packed, chunk_lines=333)[0].equals(whole)  # chunks split action and document lines apart


def test_cli_format_ubi(tmp_path: Path) -> None:
    path = tmp_path / "sample.ndjson"
    path.write_text("\n".join(_bulk(SAMPLE)) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    env["MATCHGRAPH_HOME"] = str(tmp_path / "home")
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "ingest", "logs", str(path), "--format", "ubi", "--json"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["ingested"], report["rejected"]) == (3, 1)
