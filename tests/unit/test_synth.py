"""The synthetic catalog and search-log generator: determinism, realism, and the native format."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.schema import Artifact, is_valid_id
from ingest.logs import SEARCH_SCHEMA, SeenIds, read_logs
from ingest.rejects import Rejects
from ingest.synth import (
    MAX_SHOWN,
    Intent,
    derive_intents,
    iter_synth_searches,
    synth_catalog,
    synth_searches,
    synth_truth,
    to_native_json,
    write_synth,
)

if TYPE_CHECKING:
    from pathlib import Path

START = datetime(2026, 3, 2, tzinfo=UTC)
DAYS = 14
N = 40_000


@pytest.fixture(scope="module")
def catalog() -> list[dict]:
    return synth_catalog(400, seed=11)


@pytest.fixture(scope="module")
def searches(catalog: list[dict]) -> pl.DataFrame:
    frame, _ = synth_searches(catalog, N, seed=11, start=START, days=DAYS)
    return frame


def _ndjson(frame: pl.DataFrame) -> bytes:
    out = io.BytesIO()
    to_native_json(frame).write_ndjson(out)
    return out.getvalue()


# ------------------------------------------------------------------------------------ catalog


def test_catalog_records_are_valid_native_artifacts(catalog: list[dict]) -> None:
    artifacts = [Artifact.model_validate(r) for r in catalog]
    ids = [a.id for a in artifacts]
    assert len(ids) == 400
    assert len(set(ids)) == 400
    assert all(is_valid_id(i) for i in ids)
    assert len({a.type for a in artifacts}) >= 6
    assert all(1 <= len(a.capabilities) <= 10 for a in artifacts)
    assert all(c.name and c.description for a in artifacts for c in a.capabilities)


def test_catalog_links_point_inside_the_catalog(catalog: list[dict]) -> None:
    by_id = {r["id"]: r for r in catalog}
    derived = [(r["id"], b) for r in catalog for b in r["derived_from"]]
    integrates = [(r["id"], o) for r in catalog for o in r["integrates_with"]]
    assert len(derived) > 10
    assert len(integrates) > 10
    assert all(by_id[b]["type"] == "model" and by_id[a]["type"] == "finetune" for a, b in derived)
    assert all(by_id[o]["type"] == "framework" for _, o in integrates)


def test_catalog_is_deterministic_per_seed() -> None:
    assert synth_catalog(120, seed=5) == synth_catalog(120, seed=5)
    assert synth_catalog(120, seed=5) != synth_catalog(120, seed=6)


def test_catalog_signals_are_heavy_tailed(catalog: list[dict]) -> None:
    stars = np.array(sorted((r["signals"]["stars"] for r in catalog if "stars" in r["signals"]), reverse=True))
    assert len(stars) > 50
    top = stars[: len(stars) // 10].sum()
    assert top / stars.sum() > 0.3  # the top tenth holds far more than a tenth of the stars


# ------------------------------------------------------------------------------------ searches


def test_frame_has_the_native_columns_and_types(searches: pl.DataFrame) -> None:
    assert searches.schema == pl.Schema(SEARCH_SCHEMA)
    assert searches.height == N
    assert searches["search_id"].n_unique() == N
    assert searches.select(pl.col("results").list.len().min()).item() >= 1
    assert searches.select(pl.col("results").list.len().max()).item() == MAX_SHOWN
    assert searches.select(pl.col("results").list.n_unique().eq(pl.col("results").list.len()).all()).item()
    assert searches.null_count().sum_horizontal().item() == 0


def test_same_seed_gives_identical_output_and_another_seed_does_not(catalog: list[dict]) -> None:
    a, truth_a = synth_searches(catalog, 5_000, seed=3, start=START, days=DAYS)
    b, truth_b = synth_searches(catalog, 5_000, seed=3, start=START, days=DAYS)
    c, truth_c = synth_searches(catalog, 5_000, seed=4, start=START, days=DAYS)
    assert a.equals(b)
    assert _ndjson(a) == _ndjson(b)
    assert np.array_equal(truth_a.quality, truth_b.quality)
    assert not a.equals(c)
    assert a["results"].to_list() != c["results"].to_list()
    assert not np.array_equal(truth_a.quality, truth_c.quality)


def test_a_few_artifacts_get_most_matches(catalog: list[dict], searches: pl.DataFrame) -> None:
    counts = searches.select(pl.col("results").explode()).group_by("results").len().sort("len", descending=True)
    top = counts["len"].head(len(catalog) // 10).sum()
    assert top / counts["len"].sum() > 0.5


def test_a_few_intents_get_most_searches(searches: pl.DataFrame) -> None:
    counts = searches.group_by("query").len().sort("len", descending=True)
    assert counts.height > 200
    assert counts["len"].head(counts.height // 10).sum() / searches.height > 0.5


def test_clicks_only_on_listed_results(searches: pl.DataFrame) -> None:
    stray = searches.select(pl.col("clicks").list.set_difference("results").list.len().sum()).item()
    assert stray == 0
    assert searches.select(pl.col("clicks").list.len().sum()).item() > N // 2


def test_clicks_fall_off_with_position(searches: pl.DataFrame) -> None:
    def ctr(position: int) -> float:
        shown = searches.filter(pl.col("results").list.len() > position)
        hit = pl.col("clicks").list.contains(pl.col("results").list.get(position))
        return float(shown.select(hit.mean()).item())

    rates = [ctr(p) for p in range(5)]
    assert rates[0] > 1.5 * rates[4]
    assert rates[0] > rates[1] > rates[2]


def test_some_searches_have_no_click_and_some_several(searches: pl.DataFrame) -> None:
    n_clicks = searches["clicks"].list.len()
    no_click = float((n_clicks == 0).mean())
    several = float((n_clicks > 1).mean())
    assert 0.2 < no_click < 0.7
    assert several > 0.05


def test_display_order_ignores_quality(catalog: list[dict]) -> None:
    """Changing only the hidden quality changes the clicks, never the listed results."""
    ids = [r["id"] for r in catalog]
    flipped = {i: (3.0 if k % 2 else -4.0) for k, i in enumerate(ids)}
    a, _ = synth_searches(catalog, 5_000, seed=9, start=START, days=DAYS)
    b, truth = synth_searches(catalog, 5_000, seed=9, start=START, days=DAYS, quality=flipped)
    assert a["results"].equals(b["results"])
    assert not a["clicks"].equals(b["clicks"])
    assert truth.quality_of(ids[1]) == 3.0
    clicked = b.select(pl.col("clicks").explode()).drop_nulls()["clicks"]
    odd = {i for k, i in enumerate(ids) if k % 2}
    assert clicked.is_in(list(odd)).mean() > 0.9  # clicks follow the attractive ones


def test_sessions_hold_several_searches_within_one_day(searches: pl.DataFrame) -> None:
    sessions = searches.group_by("session_id").agg(
        pl.len().alias("n"), pl.col("ts").dt.date().n_unique().alias("days"), pl.col("query").n_unique().alias("q")
    )
    assert 2.0 < sessions["n"].mean() < 4.0
    assert sessions["n"].max() >= 5
    assert sessions["days"].max() == 1
    assert (sessions.filter(pl.col("n") > 1)["q"] < sessions.filter(pl.col("n") > 1)["n"]).mean() > 0.3


def test_timestamps_spread_over_the_days_in_order(searches: pl.DataFrame) -> None:
    ts = searches["ts"]
    assert ts.min() >= START
    assert ts.max() < START + timedelta(days=DAYS, hours=2)
    assert ts.dt.date().n_unique() >= DAYS
    assert ts.is_sorted()
    per_day = searches.group_by(pl.col("ts").dt.date()).len()["len"]
    assert per_day.min() > 0.5 * per_day.mean()
    hourly = searches.group_by(pl.col("ts").dt.hour()).len().sort("ts")["len"].to_numpy()
    assert hourly[9:18].mean() > 1.5 * hourly[0:5].mean()  # a daily rhythm, busier by day


def test_truth_aligns_with_the_catalog(catalog: list[dict]) -> None:
    truth = synth_truth(catalog, seed=11)
    assert truth.ids == tuple(r["id"] for r in catalog)
    assert truth.popularity.sum() == pytest.approx(1.0)
    assert truth.popularity.max() / truth.popularity.min() > 100
    frame = truth.to_frame()
    assert frame.height == len(catalog)
    assert frame["quality"].std() > 0.5
    assert truth.popularity_of(catalog[0]["id"]) == frame["popularity"][0]


def test_explicit_intents_and_popularity_are_used() -> None:
    catalog = [{"id": f"a{i}", "name": f"A{i}", "type": "model"} for i in range(30)]
    intents = [
        Intent("image models", {f"a{i}": 1.0 for i in range(15)}),
        Intent("a29", {"a29": 50.0, "a0": 0.5}, weight=0.2, kind="navigational"),
    ]
    popularity = {f"a{i}": 1.0 / (i + 1) for i in range(30)}
    frame, _ = synth_searches(catalog, 3_000, seed=1, intents=intents, popularity=popularity)
    assert set(frame["query"].unique()) == {"image models", "a29"}
    named = frame.filter(pl.col("query") == "a29")
    # The name match usually leads, though a far more popular artifact sometimes outranks it.
    assert named.select(pl.col("results").list.first().eq("a29").mean()).item() > 0.75
    assert named.select(pl.col("results").list.contains("a29").all()).item()
    assert named.select(pl.col("results").list.len().max()).item() == 2
    generic = frame.filter(pl.col("query") == "image models")
    assert generic.select(pl.col("results").list.len().max()).item() == MAX_SHOWN
    firsts = generic.select(pl.col("results").list.first()).to_series().value_counts().sort("count")
    assert firsts["results"][-1] == "a0"  # the most popular artifact is listed first most often


def test_derived_intents_cover_names_capabilities_and_comparisons(catalog: list[dict]) -> None:
    intents = derive_intents(catalog)
    kinds = {i.kind for i in intents}
    assert {"navigational", "capability", "comparison", "type"} <= kinds
    names = {i.query for i in intents if i.kind == "navigational"}
    assert names == {r["name"].lower() for r in catalog}
    comparison = next(i for i in intents if i.kind == "comparison")
    assert " vs " in comparison.query
    assert sorted(comparison.relevance.values())[-2:] == [30.0, 30.0]


def test_chunks_concatenate_to_the_whole_log(catalog: list[dict]) -> None:
    frames = list(iter_synth_searches(catalog, 2_500, seed=2, start=START, days=3, chunk=1_000))
    assert [f.height for f in frames] == [1_000, 1_000, 500]
    whole, _ = synth_searches(catalog, 2_500, seed=2, start=START, days=3, chunk=1_000)
    assert pl.concat(frames).equals(whole)
    assert whole["search_id"].n_unique() == 2_500
    assert frames[0]["ts"].max() < frames[2]["ts"].min()


def test_write_synth_writes_native_files_the_reader_accepts(tmp_path: Path) -> None:
    paths = write_synth(tmp_path, n_artifacts=150, n_searches=2_500, seed=4, per_file=1_000)
    assert [p.name for p in paths] == ["catalog.jsonl", *[f"searches-000{i}.synthetic.jsonl" for i in range(3)]]
    catalog = [json.loads(line) for line in paths[0].read_text().splitlines()]
    assert len(catalog) == 150
    first = json.loads(paths[1].read_text().splitlines()[0])
    assert set(first) == {"search_id", "ts", "query", "results", "clicks", "session_id"}
    assert first["ts"].endswith("Z")
    rejects, seen = Rejects(), SeenIds()
    total = sum(f.height for p in paths[1:] for f in read_logs(p, rejects, seen))
    assert total == 2_500
    assert len(rejects) == 0
    again = tmp_path / "again"
    assert [p.read_bytes() for p in write_synth(again, 150, 2_500, 4, per_file=1_000)] == [
        p.read_bytes() for p in paths
    ]


@settings(max_examples=15, deadline=None)
@given(n=st.integers(min_value=0, max_value=700), seed=st.integers(min_value=0, max_value=2**31),
       chunk=st.integers(min_value=1, max_value=300))
def test_any_size_and_chunking_gives_valid_searches(n: int, seed: int, chunk: int) -> None:
    catalog = synth_catalog(60, seed=seed % 7)
    frame, _ = synth_searches(catalog, n, seed, start=START, days=2, chunk=chunk)
    assert frame.height == n
    assert frame.schema == pl.Schema(SEARCH_SCHEMA)
    if n:
        ids = {r["id"] for r in catalog}
        listed = set(frame.select(pl.col("results").explode())["results"])
        assert listed <= ids
        assert frame["search_id"].n_unique() == n
