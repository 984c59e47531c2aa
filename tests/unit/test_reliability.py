"""Nothing lost, nothing counted twice: one writer at a time, a file as the unit of failure, values
that cannot poison scoring, and files that can be taken back exactly. Both stores where a store is
involved (the ``store`` fixture runs on Neo4j too, marked ``integration``)."""

from __future__ import annotations

import gzip
import json
import os
import threading
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from api.application import WRITER_LOCK, MatchGraph
from graph.embedded import EmbeddedStore
from graph.errors import InvalidInput, StoreLocked
from graph.settings import Settings
from graph.store import GraphStore
from graph.tables import KEYS, Table
from tests.fixtures import CATALOG, SEARCHES, search, write_jsonl

pytestmark = pytest.mark.reliability

GRAPH = (Table.ARTIFACTS, Table.PROVIDERS, Table.CAPABILITIES, Table.HAS_CAPABILITY, Table.DERIVED_FROM,
         Table.INTEGRATES_WITH, Table.INTENTS, Table.MATCHED, Table.CO_MATCHED, Table.PREFERRED_OVER,
         Table.INTENT_PREFERENCES, Table.TOTALS, Table.DAILY)
"""What the graph holds, less what records when it was written (ledger, runs, scores, history)."""


def _settings(home: Path, **more: Any) -> Settings:
    return Settings(MATCHGRAPH_HOME=home, NEO4J_URI=None, MATCHGRAPH_NIGHTLY_SETTLE_S=0, **more)  # type: ignore[call-arg]


def _graph(store: GraphStore) -> dict[Table, list[dict[str, Any]]]:
    return {t: store.table(t).sort(list(KEYS[t])).to_dicts() for t in GRAPH}


def _app(store: GraphStore, home: Path, **more: Any) -> MatchGraph:
    return MatchGraph(_settings(home, **more), store)


# -- a file is the unit of failure --------------------------------------------------------------------
def test_bad_files_fail_alone_and_the_rest_goes_in(store: GraphStore, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    write_jsonl(logs / "a.jsonl", SEARCHES[:2])
    truncated = gzip.compress("".join(json.dumps(s) + "\n" for s in SEARCHES[2:]).encode())
    (logs / "b.jsonl.gz").write_bytes(truncated[: len(truncated) // 2])
    (logs / "c.jsonl").write_text("{" * 100_000 + "\n")  # nested past any parser's recursion
    unreadable = write_jsonl(logs / "d.jsonl", SEARCHES[2:3])
    unreadable.chmod(0)
    if os.access(unreadable, os.R_OK):  # root reads anything: make it unreadable another way
        unreadable.unlink()
        unreadable.mkdir()
        (unreadable / "x").write_text("not a file but a folder named like one")
    mg = _app(store, tmp_path / "home")
    report = mg.nightly(None, logs, say=lambda _line: None)
    assert report.ingested == 2
    assert report.rescored
    assert store.table(Table.RUNS).height == 1
    run = store.table(Table.RUNS).row(0, named=True)
    assert run["ingested"] == 2
    rows = [json.loads(line) for line in Path(run["rejects"]).read_text().splitlines()]
    reasons = {Path(r["source"]).name: r["reason"] for r in rows}
    assert "c.jsonl" in reasons
    assert store.table(Table.INTENTS).get_column("searches").sum() == 2


def test_many_small_files_make_one_write(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    for i in range(200):
        write_jsonl(logs / f"f{i:03d}.jsonl", [search(f"s{i}", 1 + i % 9, f"q{i % 7}", [f"a{i % 13}", "b"], ["b"])])
    store = EmbeddedStore(tmp_path / "home")
    versions = []
    real_apply = store.apply

    def counting(delta: Any) -> None:
        real_apply(delta)
        versions.append(store.version())

    store.apply = counting  # type: ignore[method-assign]
    report = _app(store, tmp_path / "home").ingest_logs(sorted(logs.iterdir()))
    assert report.ingested == 200
    assert report.writes == 1
    assert len(versions) == 1
    assert store.table(Table.LEDGER).height == 200
    assert store.table(Table.MATCHED).filter(pl.col("artifact") == "b").get_column("count").sum() == 200


def test_a_file_that_changes_while_read_is_not_half_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ingest import pipeline

    log = write_jsonl(tmp_path / "growing.jsonl", SEARCHES)
    real = pipeline._signature
    calls = {"n": 0}

    def growing(path: Path) -> tuple[int, int, int]:
        calls["n"] += 1
        if calls["n"] % 2 == 0:  # every copy finds the file grown behind it
            with open(path, "a") as fh:
                fh.write(json.dumps(search(f"late-{calls['n']}", 4, "q", ["x"])) + "\n")
        return real(path)

    monkeypatch.setattr(pipeline, "_signature", growing)
    store = EmbeddedStore(tmp_path / "home")
    report = _app(store, tmp_path / "home").ingest_logs([log])
    assert [f.status for f in report.files] == [
        "failed: it changed while it was being read, twice; it is left for the next run"]
    assert report.ingested == 0
    assert store.table(Table.LEDGER).height == 0
    assert store.table(Table.INTENTS).height == 0


def test_links_out_of_the_folder_are_refused(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    write_jsonl(logs / "ok.jsonl", SEARCHES)
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    (logs / "passwd.jsonl").symlink_to(secret)
    inside = logs / "sub"
    inside.mkdir()
    (inside / "again.jsonl").symlink_to(logs / "ok.jsonl")  # a link inside the folder is read
    store = EmbeddedStore(tmp_path / "home")
    said: list[str] = []
    report = _app(store, tmp_path / "home").nightly(None, logs, say=said.append)
    assert any("a link out of" in line and "passwd.jsonl" in line for line in said)
    assert any("passwd.jsonl" in f for f in report.failed)
    rejects = Path(store.table(Table.RUNS).row(0, named=True)["rejects"] or "/nonexistent")
    assert "root:x" not in (rejects.read_text() if rejects.exists() else "")
    assert report.ingested == 4  # ok.jsonl once; the link to it has the same bytes: skipped


# -- one writer -----------------------------------------------------------------------------------
def test_concurrent_ingests_count_once(store: GraphStore, tmp_path: Path) -> None:
    """Two ingests of the same file at once: one takes it in, the other waits its turn and finds it
    in the ledger (or is refused while the first holds the lock); never both."""
    log = write_jsonl(tmp_path / "logs.jsonl", SEARCHES)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def ingest() -> None:
        barrier.wait()
        try:
            report = _app(store, tmp_path / "home").ingest_logs([log])
            outcomes.append(report.files[0].status)
        except StoreLocked:
            outcomes.append("locked")

    threads = [threading.Thread(target=ingest) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) in (["ingested", "locked"], ["ingested", "skipped: already ingested"])
    assert store.table(Table.INTENTS).get_column("searches").sum() == len(SEARCHES)


def test_every_write_path_takes_the_writer_lock(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "home")
    mg = _app(store, tmp_path / "home")
    log = write_jsonl(tmp_path / "logs.jsonl", SEARCHES)
    catalog = write_jsonl(tmp_path / "catalog.jsonl", CATALOG)
    with store.run_lock(WRITER_LOCK, 60):
        for write in (lambda: mg.ingest_logs([log]), lambda: mg.ingest_catalogs([catalog]), lambda: mg.score(),
                      lambda: mg.nightly(None, tmp_path, say=lambda _l: None), lambda: mg.forget("0" * 64)):
            with pytest.raises(StoreLocked):
                write()


# -- taking a file back ---------------------------------------------------------------------------
def test_forget_takes_back_exactly_what_a_file_added(store: GraphStore, tmp_path: Path) -> None:
    mg = _app(store, tmp_path / "home")
    mg.ingest_catalogs([write_jsonl(tmp_path / "catalog.jsonl", CATALOG)])
    mg.ingest_logs([write_jsonl(tmp_path / "first.jsonl", SEARCHES[:2])])
    before = _graph(store)
    extra = [search("x1", 5, "Brand new need", ["newcomer", "flux-1-pro"], ["newcomer"], "u9"),
             search("x2", 5, "text to image", ["dalle-3", "flux-1-pro"], ["dalle-3"], "u9"), SEARCHES[3]]
    bad = write_jsonl(tmp_path / "bad.jsonl", extra)
    mg.ingest_logs([bad])
    assert _graph(store) != before
    assert store.table(Table.ARTIFACTS, ["newcomer"]).height == 1
    report, _ = mg.forget(str(bad))
    assert report.searches == 3
    assert report.stubs_removed == 1  # newcomer; midjourney was never named by it, flux by others too
    assert _graph(store) == before
    assert store.table(Table.LEDGER).filter(pl.col("source") == str(bad)).height == 0
    with pytest.raises(InvalidInput, match="catalog file"):
        mg.forget(str(tmp_path / "catalog.jsonl"))


@hsettings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_ingest_then_forget_leaves_the_graph_as_it_was(tmp_path_factory: pytest.TempPathFactory,
                                                       data: st.DataObject) -> None:
    tmp = tmp_path_factory.mktemp("forget")
    n = data.draw(st.integers(min_value=2, max_value=5))
    searches = [search(f"s{i}", 1 + i % 6, f"query {i % 4}", [f"a{(i * 5 + k) % 9}" for k in range(1 + i % 5)],
                       [f"a{(i * 5) % 9}"] if i % 3 else [], f"u{i % 3}") for i in range(30)]
    owner = data.draw(st.lists(st.integers(min_value=0, max_value=n - 1), min_size=30, max_size=30))
    files = [write_jsonl(tmp / f"f{k}.jsonl", [s for s, o in zip(searches, owner, strict=True) if o == k])
             for k in range(n)]
    files = [f for f in files if f.read_text()]
    taken_back = data.draw(st.sampled_from(files))
    others = [f for f in files if f != taken_back]
    reference = EmbeddedStore(tmp / "reference")
    if others:
        _app(reference, tmp / "reference").ingest_logs(others)
    store = EmbeddedStore(tmp / "home")
    mg = _app(store, tmp / "home")
    mg.ingest_logs(files)
    mg.forget(str(taken_back))
    assert _graph(store) == _graph(reference)


# -- values that cannot poison -------------------------------------------------------------------
def test_no_value_of_any_kind_breaks_scoring(tmp_path: Path) -> None:
    """Every kind of bad value, through ingest to score: the bad records are rejected with their
    reasons, the scores are finite, and a search dated after the run does not move the as-of date."""
    catalog = tmp_path / "catalog.jsonl"
    catalog.write_text("\n".join([
        '{"id": "ok", "name": "OK", "type": "model", "signals": {"likes": 5}}',
        '{"id": "inf", "name": "Inf", "type": "model", "signals": {"likes": Infinity}}',
        '{"id": "big", "name": "Big", "type": "model", "signals": {"likes": 1e400}}',
        '{"id": "neg", "name": "Neg", "type": "model", "price_input": -1}',
        '{"id": "nan", "name": "NaN", "type": "model", "signals": {"stars": NaN}}',
        '{"id": "cyr\u0430", "name": "Look-alike", "type": "model"}',
    ]) + "\n")
    (tmp_path / "catalog.csv").write_text("id,name,type,likes\ncsv-inf,X,model,inf\ncsv-ok,Y,model,3\n")
    now = datetime.now(UTC)
    logs = tmp_path / "logs.jsonl"
    logs.write_text("\n".join([
        json.dumps(search("g1", 3, "q", ["ok", "csv-ok"], ["ok"])),
        json.dumps({"search_id": "far", "ts": "9999-12-31T00:00:00Z", "query": "q", "results": ["ok"]}),
        json.dumps({"search_id": "epoch", "ts": 99999999999999999, "query": "q", "results": ["ok"]}),
        json.dumps({"search_id": "ancient", "ts": "1066-10-14T09:00:00Z", "query": "q", "results": ["ok"]}),
        json.dumps({"search_id": 10**40, "ts": "2026-01-03T00:00:00Z", "query": "q", "results": ["ok"]}),
        json.dumps({"search_id": "space", "ts": "2026-01-04 10:00:00", "query": "q", "results": ["ok"]}),
        json.dumps({"search_id": "day", "ts": "2026-01-05", "query": "q", "results": ["csv-ok"]}),
    ]) + "\n")
    store = EmbeddedStore(tmp_path / "home")
    mg = _app(store, tmp_path / "home")
    cats = mg.ingest_catalogs([catalog, tmp_path / "catalog.csv"])
    assert cats.ingested == 2  # ok and csv-ok; every other record is rejected with its reason
    reasons = {json.loads(line)["line"]: json.loads(line)["reason"] for line in cats.rejects_path.read_text()
               .splitlines() if json.loads(line)["source"] == str(catalog)}  # type: ignore[union-attr]
    assert sorted(reasons) == [2, 3, 4, 5, 6]
    assert "look" in reasons[6].lower() or "ascii" in reasons[6].lower()
    report = mg.ingest_logs([logs])
    # g1, the 10^40 search id (an id, kept as its digits), "2026-01-04 10:00:00" and "2026-01-05";
    # the dates in 9999, in year 3 billion (epoch ms 10^17) and in 1066 are out of the window
    assert report.ingested == 4
    assert report.rejected == 3
    scored = mg.score()
    assert scored.as_of <= now.date()
    assert scored.as_of == date(2026, 1, 5)
    scores = store.table(Table.SCORES)
    for column in ("rank", "adoption", "quality", "match_graph", "ecosystem", "freshness"):
        assert scores.get_column(column).is_finite().all() if scores[column].dtype.is_float() \
            else scores.get_column(column).is_not_null().all(), column
