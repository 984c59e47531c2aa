"""The embedded store on disk: round trips, atomic publishing, crash safety and the writer lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import polars as pl
import pytest

from graph.embedded import EmbeddedStore
from graph.errors import StoreLocked
from graph.tables import GraphDelta, Table

CO = pl.DataFrame({"a": ["x", "x"], "b": ["y", "z"], "count": [2, 1]})


def test_round_trip_through_disk(tmp_path: Path) -> None:
    first = EmbeddedStore(tmp_path)
    arts = pl.DataFrame({"id": ["x", "y"], "name": ["X", "Y"], "type": ["model", "repo"], "catalogued": [True, True],
                         "stars": [3.0, None]})
    first.apply(GraphDelta().set(Table.ARTIFACTS, arts).set(Table.CO_MATCHED, CO))
    second = EmbeddedStore(tmp_path)  # a new process would see the same
    assert second.table(Table.CO_MATCHED).sort("b").equals(first.table(Table.CO_MATCHED).sort("b"))
    got = second.table(Table.ARTIFACTS).sort("id")
    assert got.get_column("stars").to_list() == [3.0, None]
    assert got.get_column("type").to_list() == ["model", "repo"]
    assert got.schema == first.table(Table.ARTIFACTS).schema


def test_reader_sees_a_newer_snapshot_published_by_another_writer(tmp_path: Path) -> None:
    reader = EmbeddedStore(tmp_path)
    assert reader.table(Table.CO_MATCHED).height == 0
    EmbeddedStore(tmp_path).apply(GraphDelta().set(Table.CO_MATCHED, CO))
    assert reader.table(Table.CO_MATCHED).height == 2


def test_unchanged_tables_are_hard_linked_and_old_snapshots_collected(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path, retain_s=0)
    store.apply(GraphDelta().set(Table.CO_MATCHED, CO))
    store.apply(GraphDelta().set(Table.INTENTS, pl.DataFrame({"id": ["q"], "searches": [1]})))
    store.apply(GraphDelta().set(Table.INTENTS, pl.DataFrame({"id": ["q"], "searches": [1]})))
    snapshots = sorted(p for p in (tmp_path / "embedded" / "snapshots").iterdir())
    assert len(snapshots) == 2  # the current one and its predecessor
    current = (tmp_path / "embedded" / "CURRENT").read_text().strip()
    co_file = tmp_path / "embedded" / "snapshots" / current / "co_matched.parquet"
    assert co_file.stat().st_nlink == 2  # shared with the previous snapshot, not rewritten
    assert store.table(Table.INTENTS).get_column("searches").to_list() == [2]


def test_failed_publish_leaves_the_previous_graph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = EmbeddedStore(tmp_path)
    store.apply(GraphDelta().set(Table.CO_MATCHED, CO))

    def crash(*_: object) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk gone"):
        store.apply(GraphDelta().set(Table.CO_MATCHED, CO))
    monkeypatch.undo()
    fresh = EmbeddedStore(tmp_path)
    assert fresh.table(Table.CO_MATCHED).get_column("count").sum() == 3


WRITER = textwrap.dedent("""
    import sys, polars as pl
    from graph.embedded import EmbeddedStore
    from graph.tables import GraphDelta, Table
    store = EmbeddedStore(sys.argv[1])
    delta = GraphDelta().set(Table.CO_MATCHED, pl.DataFrame({"a": ["a"] * 2000, "b": [f"b{i}" for i in range(2000)],
                                                             "count": [1] * 2000}))
    print("ready", flush=True)
    while True:
        store.apply(delta)
""")


@pytest.mark.parametrize("delay", [0.05, 0.2, 0.45])
def test_sigkill_mid_write_leaves_a_whole_snapshot(tmp_path: Path, delay: float) -> None:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE,
                            cwd=Path(__file__).resolve().parents[2])
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"ready"
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    store = EmbeddedStore(tmp_path)
    co = store.table(Table.CO_MATCHED)
    if co.height:
        counts = co.get_column("count").unique().to_list()
        assert co.height == 2000
        assert len(counts) == 1
    # and the store still takes writes: the kernel released the dead writer's lock
    store.apply(GraphDelta().set(Table.INTENTS, pl.DataFrame({"id": ["q"], "searches": [1]})))
    assert EmbeddedStore(tmp_path).table(Table.INTENTS).height == 1


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path: Path) -> None:
    holder = EmbeddedStore(tmp_path)
    other = EmbeddedStore(tmp_path, lock_timeout_s=0.2)
    with holder._write_lock(), pytest.raises(StoreLocked, match="another process"):
        other.apply(GraphDelta().set(Table.CO_MATCHED, CO))
