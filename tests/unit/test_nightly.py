"""The nightly job on the embedded store: only new files, nothing twice, a lock, and kill -9 safety."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from api.application import WRITER_LOCK, MatchGraph
from graph.embedded import EmbeddedStore
from graph.errors import StoreLocked
from graph.settings import Settings
from graph.tables import KEYS, Table
from ingest.pipeline import ingest_logs
from ingest.synth import write_synth
from tests.fixtures import search, write_jsonl

ROOT = Path(__file__).resolve().parents[2]
COMPARED = (Table.ARTIFACTS, Table.PROVIDERS, Table.CAPABILITIES, Table.HAS_CAPABILITY, Table.DERIVED_FROM,
            Table.INTEGRATES_WITH, Table.INTENTS, Table.MATCHED, Table.CO_MATCHED, Table.PREFERRED_OVER,
            Table.DAILY, Table.SCORES)
"""Everything the graph holds except what records when it was written (ledger, runs, rank history)."""


def graph_of(store: EmbeddedStore) -> dict[Table, pl.DataFrame]:
    return {t: store.table(t).sort(list(KEYS[t])) for t in COMPARED}


def assert_same_graph(a: dict[Table, pl.DataFrame], b: dict[Table, pl.DataFrame]) -> None:
    for table in COMPARED:
        assert a[table].equals(b[table]), table


def data(tmp: Path, searches: int, per_file: int) -> tuple[Path, Path]:
    generated = write_synth(tmp / "gen", n_artifacts=300, n_searches=searches, seed=7, per_file=per_file)
    (tmp / "catalogs").mkdir()
    (tmp / "logs").mkdir()
    shutil.move(generated[0], tmp / "catalogs" / "catalog.jsonl")
    for path in generated[1:]:
        shutil.move(path, tmp / "logs" / path.name)
    return tmp / "catalogs", tmp / "logs"


def nightly(home: Path, catalogs: Path, logs: Path) -> tuple[EmbeddedStore, list[str]]:
    settings = Settings(MATCHGRAPH_HOME=home, NEO4J_URI=None)  # type: ignore[call-arg]
    store = EmbeddedStore(home)
    said: list[str] = []
    report = MatchGraph(settings, store).nightly(catalogs, logs, say=said.append)  # what the CLI uses
    said.append(report.summary())
    return store, said


def test_runs_take_in_only_what_is_new_and_record_themselves(tmp_path: Path) -> None:
    catalogs, logs = data(tmp_path, searches=3_000, per_file=1_000)
    store, said = nightly(tmp_path / "home", catalogs, logs)
    first = graph_of(store)
    # the run says how long each step took, in the order they ran
    steps = re.search(r"\((finding files [\d.]+ s), (catalog [\d.]+ s), (logs [\d.]+ s), (rescore [\d.]+ s)\)$",
                      said[-1])
    assert steps is not None, said[-1]
    runs = store.table(Table.RUNS)
    assert runs.height == 1
    row = runs.row(0, named=True)
    assert (row["files"], row["ingested"], row["rejected"], row["rescored"]) == (4, 3_300, 0, True)
    assert store.table(Table.SCORES).height == 300

    store, said = nightly(tmp_path / "home", catalogs, logs)  # nothing new
    assert re.search(r"scores unchanged; [\d.]+ s \(finding files [\d.]+ s, catalog [\d.]+ s, logs [\d.]+ s\)$",
                     said[-1]), said[-1]  # no rescore step: nothing was new
    assert_same_graph(graph_of(store), first)
    last = store.table(Table.RUNS).sort("started_at").row(-1, named=True)
    assert (last["files"], last["skipped"], last["ingested"], last["rescored"]) == (0, 4, 0, False)

    extra = write_jsonl(logs / "late.jsonl", [search("late-1", 30, "new intent", ["a0001", "a0002"], ["a0002"])])
    store, _ = nightly(tmp_path / "home", catalogs, logs)
    last = store.table(Table.RUNS).sort("started_at").row(-1, named=True)
    assert (last["files"], last["ingested"], last["rescored"]) == (1, 1, True)
    assert store.table(Table.INTENTS).filter(pl.col("id") == "new intent").height == 1
    assert extra.exists()


def test_a_changed_file_is_reported_not_recounted(tmp_path: Path) -> None:
    catalogs, logs = data(tmp_path, searches=1_000, per_file=500)
    store, _ = nightly(tmp_path / "home", catalogs, logs)
    before = graph_of(store)
    first_log = sorted(logs.iterdir())[0]
    with open(first_log, "a") as fh:
        fh.write(json.dumps(search("appended", 2, "q", ["a0001"])) + "\n")
    store, said = nightly(tmp_path / "home", catalogs, logs)
    assert any("changed since it was ingested" in line and first_log.name in line for line in said)
    assert store.table(Table.RUNS).sort("started_at").row(-1, named=True)["changed"] == 1
    assert_same_graph(graph_of(store), before)


def test_a_second_run_is_refused_while_one_holds_the_lock(tmp_path: Path) -> None:
    catalogs, logs = data(tmp_path, searches=200, per_file=200)
    holder = EmbeddedStore(tmp_path / "home")
    with holder.run_lock(WRITER_LOCK, 60), pytest.raises(StoreLocked, match="already in progress"):
        nightly(tmp_path / "home", catalogs, logs)
    store, _ = nightly(tmp_path / "home", catalogs, logs)  # released: it runs
    assert store.table(Table.RUNS).height == 1


def test_a_run_killed_at_any_point_is_completed_by_the_next(tmp_path: Path) -> None:
    catalogs, logs = data(tmp_path, searches=60_000, per_file=15_000)
    reference, _ = nightly(tmp_path / "reference", catalogs, logs)
    expected = graph_of(reference)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    interrupted = []
    for delay in (0.6, 1.5, 3.0):
        home = tmp_path / f"killed-{delay}"
        env["MATCHGRAPH_HOME"] = str(home)
        proc = subprocess.Popen([sys.executable, "-m", "api.cli", "nightly", "--catalog", str(catalogs),
                                 "--logs", str(logs)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        runs_recorded = EmbeddedStore(home).table(Table.RUNS).height
        interrupted.append(runs_recorded == 0)
        store, _ = nightly(home, catalogs, logs)
        assert_same_graph(graph_of(store), expected)
        assert store.table(Table.LEDGER).filter(pl.col("kind") == "logs").height == 4
    assert any(interrupted), "no kill landed before the run finished: the test proved nothing"


SPLIT_SEARCHES = [
    search(f"s{i}", 1 + i % 5, f"query {i % 7}", [f"a{(i * 3 + k) % 11}" for k in range(1 + i % 6)],
           [f"a{(i * 3) % 11}"] if i % 3 else [], f"u{i % 4}")
    for i in range(40)
]


@hsettings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.integers(min_value=1, max_value=39), max_size=4, unique=True),
       runs=st.integers(min_value=1, max_value=3))
def test_any_split_into_files_and_runs_gives_the_same_graph(tmp_path_factory: pytest.TempPathFactory,
                                                            cuts: list[int], runs: int) -> None:
    tmp = tmp_path_factory.mktemp("split")
    settings = Settings(MATCHGRAPH_HOME=tmp / "home", NEO4J_URI=None)  # type: ignore[call-arg]
    whole = EmbeddedStore(tmp / "whole")
    ingest_logs(whole, [write_jsonl(tmp / "all.jsonl", SPLIT_SEARCHES)], settings)
    bounds = [0, *sorted(cuts), len(SPLIT_SEARCHES)]
    files = [write_jsonl(tmp / f"part-{i}.jsonl", SPLIT_SEARCHES[a:b]) for i, (a, b) in
             enumerate(zip(bounds, bounds[1:], strict=False))]
    split = EmbeddedStore(tmp / "split")
    per_run = max(1, -(-len(files) // runs))
    for start in range(0, len(files), per_run):
        ingest_logs(split, files[start:start + per_run], settings)
    for table in (Table.INTENTS, Table.MATCHED, Table.CO_MATCHED, Table.PREFERRED_OVER, Table.ARTIFACTS):
        assert split.table(table).sort(list(KEYS[table])).equals(whole.table(table).sort(list(KEYS[table]))), table
    # distinct sessions are counted per file (documented), so daily matched and clicks must agree
    keys = ["artifact", "day"]
    assert split.table(Table.DAILY).select(*keys, "matched", "clicks").sort(keys).equals(
        whole.table(Table.DAILY).select(*keys, "matched", "clicks").sort(keys))


def test_a_run_gathers_its_rejects_in_one_file(tmp_path: Path) -> None:
    catalogs, logs = data(tmp_path, searches=200, per_file=200)
    (catalogs / "bad.jsonl").write_text('{"id": "BAD ID", "name": "x", "type": "model"}\n'
                                        '{"id": "ok-1", "name": "ok", "type": "model"}\n')
    (logs / "bad.jsonl").write_text('{"search_id": "b1", "ts": "yesterday", "query": "q", "results": ["a0001"]}\n'
                                    + json.dumps(search("b2", 3, "q", ["a0001"])) + "\n")
    store, _ = nightly(tmp_path / "home", catalogs, logs)
    run = store.table(Table.RUNS).row(0, named=True)
    assert run["rejected"] == 2
    rejects_file = Path(run["rejects"])
    assert rejects_file.name == f"run-{run['run']}.jsonl"
    rows = [json.loads(line) for line in rejects_file.read_text().splitlines()]
    assert sorted((Path(r["source"]).name, r["line"]) for r in rows) == [("bad.jsonl", 1), ("bad.jsonl", 1)]
    assert {Path(r["source"]).parent.name for r in rows} == {"catalogs", "logs"}
    assert sorted(p.name for p in (tmp_path / "home" / "rejects").iterdir()) == [rejects_file.name]
