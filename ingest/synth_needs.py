"""Synthetic logs where an artifact's quality depends on the need: the test of "best for a need".

:mod:`ingest.synth` hides one quality per artifact. Here each artifact also gets a hidden deviation
per capability it has, ``quality(a, c) = quality(a) + deviation(a, c)`` with deviations drawn
``N(0, spread)``, and each capability is searched for by its own intent (its name), whose clicks
follow ``quality(a, c)``. A board fitted on the searches for a capability should then recover that
capability's order better than overall quality does, which is what ``bench/bench_capabilities.py``
and the unit tests measure (Spearman correlation with the hidden order).

Each capability's searches are drawn by :func:`ingest.synth.synth_searches` with the capability's
intent alone and the qualities overridden, so display order, position bias and sessions are the
same machinery as every other synthetic log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from graph.tables import Table
from ingest.synth import Intent, synth_catalog, synth_searches, synth_truth

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from graph.store import GraphStore


@dataclass(frozen=True)
class NeedsTruth:
    """``truth``: one row per (capability name, artifact) with the hidden quality for that need;
    ``overall``: the artifact's base quality."""

    truth: pl.DataFrame
    overall: pl.DataFrame


def synth_needs(n_artifacts: int, n_searches: int, seed: int, spread: float = 1.0,
                min_members: int = 8) -> tuple[list[dict[str, Any]], pl.DataFrame, NeedsTruth]:
    """A catalog, its searches (spread evenly over the capabilities held by at least
    ``min_members`` artifacts) and the hidden per-need qualities."""
    catalog = synth_catalog(n_artifacts, seed)
    base = synth_truth(catalog, seed)
    members: dict[str, list[str]] = {}
    for record in catalog:
        for cap in record["capabilities"]:
            members.setdefault(cap["name"], []).append(record["id"])
    needs = sorted(name for name, ids in members.items() if len(ids) >= min_members)
    if not needs:
        raise ValueError("no capability has enough members: use more artifacts")
    rng = np.random.default_rng([seed, 13])
    frames: list[pl.DataFrame] = []
    rows: list[dict[str, Any]] = []
    per_need = max(1, n_searches // len(needs))
    for k, need in enumerate(needs):
        quality = {a: base.quality_of(a) for a in base.ids}
        for a in members[need]:
            quality[a] = base.quality_of(a) + float(rng.normal(0.0, spread))
            rows.append({"capability": need, "artifact": a, "quality": quality[a]})
        intent = Intent(need, dict.fromkeys(members[need], 1.0), 1.0, "capability")
        searches, _ = synth_searches(catalog, per_need, seed + k, intents=[intent], quality=quality,
                                     id_prefix=f"need{k}-")
        frames.append(searches)
    overall = base.to_frame().select("id", "quality")
    return catalog, pl.concat(frames).sort("ts", "search_id"), NeedsTruth(pl.DataFrame(rows), overall)


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's rank correlation (average ranks for ties)."""
    ra = pl.Series(list(a)).rank("average").to_numpy()
    rb = pl.Series(list(b)).rank("average").to_numpy()
    if len(ra) < 2 or ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def recovery(truth: NeedsTruth, boards: pl.DataFrame, capability_ids: dict[str, str],
             overall: pl.DataFrame, min_comparisons: int = 1) -> pl.DataFrame:
    """Per capability: how well its board's order and the overall quality order recover the hidden
    order for that need (Spearman over the members the board rated with evidence).

    ``capability_ids`` maps the catalog's capability names to the graph's capability ids;
    ``overall`` has ``id`` and ``quality_rating``."""
    out = []
    rated = boards.filter((pl.col("kind") == "capability") & (pl.col("comparisons") >= min_comparisons))
    for need, group in truth.truth.group_by("capability"):
        cap_id = capability_ids.get(str(need[0]))
        board = rated.filter(pl.col("need") == cap_id).select("artifact", "rating")
        joined = (group.join(board, on="artifact").join(overall.select(pl.col("id").alias("artifact"),
                                                                       "quality_rating"), on="artifact"))
        if joined.height < 3:
            continue
        out.append({"capability": need[0], "artifacts": joined.height,
                    "board": spearman(joined.get_column("rating").to_list(), joined.get_column("quality").to_list()),
                    "overall": spearman(joined.get_column("quality_rating").to_list(),
                                        joined.get_column("quality").to_list())})
    return pl.DataFrame(out).sort("capability")


def write_needs(folder: Path, catalog: list[dict[str, Any]], searches: pl.DataFrame) -> tuple[Path, Path]:
    """The catalog and the searches of :func:`synth_needs` as the files ``ingest`` reads."""
    folder.mkdir(parents=True, exist_ok=True)
    catalog_path, logs_path = folder / "catalog.jsonl", folder / "logs.jsonl"
    catalog_path.write_text("".join(json.dumps(r) + "\n" for r in catalog))
    searches.with_columns(pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%SZ")).write_ndjson(logs_path)
    return catalog_path, logs_path


def board_recovery(store: GraphStore, truth: NeedsTruth, min_comparisons: int = 1) -> pl.DataFrame:
    """:func:`recovery` of the boards and ratings a scoring run wrote to ``store``, capabilities
    found by their names."""
    names = dict(store.table(Table.CAPABILITIES).select(pl.col("name").str.to_lowercase(), "id").iter_rows())
    overall = store.table(Table.SCORES, columns=["id", "quality_rating"])
    return recovery(truth, store.table(Table.BOARDS), names, overall, min_comparisons=min_comparisons)
