"""The nightly job on Neo4j: a run killed half way is completed by the next, giving the graph an
uninterrupted run gives on the embedded store; a second run with nothing new changes nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from graph.tables import KEYS, Table
from tests.conftest import connect_neo4j, neo4j_settings
from tests.unit.test_nightly import COMPARED, data, graph_of, nightly

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def _cli(home: Path, catalogs: Path, logs: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["MATCHGRAPH_HOME"] = str(home)
    env["MATCHGRAPH_NEO4J_ROWS_PER_WRITE"] = "2000"  # several parts per file, to kill between them
    return subprocess.Popen([sys.executable, "-m", "api.cli", "nightly", "--catalog", str(catalogs), "--logs",
                             str(logs)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_killed_nightly_on_neo4j_ends_like_an_uninterrupted_run(tmp_path: Path) -> None:
    neo4j_settings(tmp_path)
    store = connect_neo4j(tmp_path / "neo4j-home")
    store.clear()
    catalogs, logs = data(tmp_path, searches=16_000, per_file=4_000)
    reference, _ = nightly(tmp_path / "reference", catalogs, logs)
    expected = graph_of(reference)

    proc = _cli(tmp_path / "neo4j-home", catalogs, logs)
    time.sleep(3.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.stderr is not None
    proc.stderr.close()
    interrupted = store.table(Table.RUNS).height == 0
    rerun = _cli(tmp_path / "neo4j-home", catalogs, logs)
    _, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err.decode()
    got = {t: store.table(t).sort(list(KEYS[t])) for t in COMPARED}
    for table in COMPARED:
        assert_frame_equal(got[table], expected[table], rel_tol=1e-9, abs_tol=1e-9)
    assert store.table(Table.LEDGER).filter(pl.col("kind") == "logs").height == 4
    assert interrupted, "the kill landed after the run had finished: raise the data size"

    again = _cli(tmp_path / "neo4j-home", catalogs, logs)
    _, err = again.communicate(timeout=600)
    assert again.returncode == 0, err.decode()
    runs = store.table(Table.RUNS).sort("started_at")
    assert runs.row(-1, named=True)["ingested"] == 0
    for table in COMPARED:
        assert_frame_equal(store.table(table).sort(list(KEYS[table])), got[table])
    store.clear()
    store.close()
