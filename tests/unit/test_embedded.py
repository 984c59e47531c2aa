"""The embedded store on disk: round trips, atomic publishing, crash safety and the writer lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from graph.embedded import EmbeddedStore
from graph.errors import StoreLocked
from graph.tables import (
    ADDITIVE,
    CELL_TABLES,
    KEYS,
    SCHEMAS,
    GraphDelta,
    Table,
    _key_widths,
    merge_additive,
    negated,
    preference_cells,
    preference_pairs,
)

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


def _coded(table: Table, rows: int, rng: np.random.Generator) -> pl.DataFrame:
    """Random rows of an additive table as a store holds them: ids as small integer codes."""
    columns: dict[str, pl.Series] = {}
    for name, dtype in SCHEMAS[table].items():
        if name == "day":
            columns[name] = pl.Series(name, rng.integers(20_000, 20_040, rows)).cast(pl.Int32).cast(pl.Date)
        elif name in ("winner_pos", "loser_pos") and table is Table.INTENT_PREFERENCES:
            columns[name] = pl.Series(name, rng.integers(1, 6, rows))
        elif dtype == pl.String:
            columns[name] = pl.Series(name, rng.integers(0, 40, rows).astype(np.uint32))
        elif name in ADDITIVE[table]:
            columns[name] = pl.Series(name, rng.integers(1, 9, rows))
    return pl.DataFrame(list(columns.values()))


def _as_stored(table: Table, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` summed into one row per key and sorted, the way a store keeps a table."""
    keys = list(KEYS[table])
    return frame.group_by(keys).agg([pl.col(m).sum() for m in ADDITIVE[table]]).sort(keys).select(frame.columns)


@pytest.mark.parametrize("table", [t for t in ADDITIVE if t not in CELL_TABLES])
def test_merging_into_a_sorted_table_in_one_pass_sums_as_grouping_the_whole_table_does(table: Table) -> None:
    rng = np.random.default_rng(7)
    old = _as_stored(table, _coded(table, 3_000, rng))
    keys, measures = list(KEYS[table]), list(ADDITIVE[table])
    new = _coded(table, 2_000, rng)  # repeated keys, some shared with old and some not
    taken_back = old.head(25).with_columns(-pl.col(m) for m in measures)  # these rows must disappear
    new = pl.concat([new.join(taken_back.select(keys), on=keys, how="anti"), taken_back])
    assert _key_widths(keys, old, new) is not None  # the one-pass merge is the one under test

    merged = merge_additive(table, old, new)

    both = pl.concat([old, new]).group_by(keys).agg([pl.col(m).sum() for m in measures])
    expected = both.filter(pl.any_horizontal([pl.col(m) != 0 for m in measures])).sort(keys)
    assert merged.equals(expected.select(merged.columns))
    assert merged.height == old.height + new.join(old, on=keys, how="anti").unique(keys).height - 25
    assert merged.select(keys).is_unique().all()


def test_merging_preference_cells_into_a_sorted_table_keeps_the_pairs_it_does_not_touch_as_they_were() -> None:
    rng = np.random.default_rng(3)

    def pairs(rows: int) -> pl.DataFrame:
        cells = pl.DataFrame({"winner": rng.integers(0, 30, rows).astype(np.uint32),
                              "loser": rng.integers(0, 30, rows).astype(np.uint32),
                              "winner_pos": rng.integers(1, 5, rows), "loser_pos": rng.integers(1, 5, rows),
                              "count": rng.integers(1, 4, rows)})
        return preference_pairs(cells)

    old, new = pairs(1_500), pairs(400)
    taken_back = negated(Table.PREFERRED_OVER, old.head(10))
    new = pl.concat([new, taken_back])
    keys = list(KEYS[Table.PREFERRED_OVER])
    assert _key_widths(keys, old, new) is not None

    merged = merge_additive(Table.PREFERRED_OVER, old, new)

    expected = preference_pairs(pl.concat([preference_cells(old), preference_cells(new)]))
    assert merged.equals(expected.select(merged.columns))
    untouched = old.join(new.select(keys).unique(), on=keys, how="anti")
    assert untouched.height > 0
    assert merged.join(untouched.select(keys), on=keys, how="semi").equals(untouched)


def test_a_table_out_of_key_order_is_still_merged_right() -> None:
    """A table not sorted by key (or with a key twice) takes the grouping path, with the same sums."""
    old = pl.DataFrame({"a": pl.Series([5, 1, 5], dtype=pl.UInt32), "b": pl.Series([2, 1, 2], dtype=pl.UInt32),
                        "count": [1, 2, 3]})
    new = pl.DataFrame({"a": pl.Series([1, 7], dtype=pl.UInt32), "b": pl.Series([1, 0], dtype=pl.UInt32),
                        "count": [-2, 4]})
    merged = merge_additive(Table.CO_MATCHED, old, new)
    assert merged.rows() == [(5, 2, 4), (7, 0, 4)]
