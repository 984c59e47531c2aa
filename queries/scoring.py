"""A scoring run: every registered sub-score of every artifact, the composite rank, its evidence.

What each sub-score means and how it is computed lives with it in :mod:`queries.subscores`; this
module gathers their inputs once, runs them, combines them into the rank and writes the result.
"All sub-scores are 0-100", "within type" means among artifacts of the same ``type``, and
``as_of`` is the last day seen in the logs (never later than the run itself; the newest release
date when there are no logs), so the same input always gives the same scores.

rank
    The weighted mean of the sub-scores (quality in its shrunk form), weights per type from
    ``weights.toml`` over the registry's defaults, rounded to an integer.
"""

from __future__ import annotations

import time
import tomllib
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib import resources
from typing import TYPE_CHECKING

import polars as pl

from graph.schema import SIGNALS
from graph.tables import GraphDelta, Table, conform, preference_cells
from queries.capabilities import CapabilityConfig, CapabilityGraph, link_and_rank, regroup
from queries.rating import fit_ratings
from queries.stats import artifact_stats
from queries.subscores import DEFAULT_WEIGHTS, NAMES, REGISTRY, Constants, Inputs

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from graph.store import GraphStore, Reader


def load_weights(path: Path | None = None) -> dict[str, dict[str, float]]:
    """Weights per type (and ``default``): the registry's defaults, overridden by a TOML file (the
    packaged ``weights.toml`` when ``path`` is None). A type's section names only what it changes."""
    text = path.read_text() if path else resources.files("queries").joinpath("weights.toml").read_text()
    data = tomllib.loads(text)
    default = {**DEFAULT_WEIGHTS, **{k: float(v) for k, v in data.get("default", {}).items()}}
    out: dict[str, dict[str, float]] = {}
    for type_name, row in {"default": {}, **data}.items():
        unknown = set(row) - set(NAMES)
        if unknown:
            raise ValueError(f"weights for {type_name!r} name unknown sub-scores: {sorted(unknown)}")
        out[type_name] = {**default, **{k: float(v) for k, v in row.items()}}
        if sum(out[type_name].values()) <= 0:
            raise ValueError(f"weights for {type_name!r} must not all be zero")
    return out


@dataclass(frozen=True)
class ScoringConfig:
    half_life_days: float = 30.0
    prior_sd: float = 1.5
    position_prior_sd: float = 3.0
    interval_draws: int = 100
    draw_intervals_max_artifacts: int = 5_000
    min_comparisons: int = 10
    shrink_k: float = 10.0
    damping: float = 0.85
    seed: int = 20_260_101
    as_of: date | None = None
    now: datetime | None = None
    """The time of the run (default: the clock); searches dated after it never set ``as_of``."""
    weights: dict[str, dict[str, float]] = field(default_factory=load_weights)
    constants: Constants = field(default_factory=Constants)
    capabilities: CapabilityConfig = field(default_factory=CapabilityConfig)
    """Thresholds of the capability graph the run rebuilds (``queries.capabilities``)."""


@contextmanager
def _reading(source: GraphStore | Reader) -> Iterator[Reader]:
    """A store gives one bulk read view for the whole run; a reader is used as it is."""
    if hasattr(source, "reader"):
        with source.reader(bulk=True) as view:
            yield view
    else:
        yield source


def _as_of(reader: Reader, config: ScoringConfig) -> date:
    if config.as_of:
        return config.as_of
    today = (config.now or datetime.now(UTC)).date()
    days = reader.table(Table.DAILY, columns=["day"]).get_column("day")
    last = days.filter(days <= today).max()
    if isinstance(last, date):
        return last
    released = reader.table(Table.ARTIFACTS, columns=["released"]).get_column("released")
    newest = released.filter(released <= today).max()
    return newest if isinstance(newest, date) else today


RATING_DETAILS = ("prepare_s", "fit_s", "intervals_s", "steps", "objective_evaluations", "cg_iterations")
"""What ``score --verbose`` shows of the rating fit's own report, besides its total time."""


@dataclass
class Scored:
    """The scores table of a run, and the time each step took."""

    scores: pl.DataFrame
    as_of: date
    steps: dict[str, float]
    capabilities: CapabilityGraph | None = None
    """The capability graph the run rebuilt, written in the same delta as the scores."""


def compute(source: GraphStore | Reader, config: ScoringConfig) -> Scored:
    """Every artifact's sub-scores, rank and evidence, in the ``scores`` table's schema."""
    steps: dict[str, float] = {}
    clock = time.perf_counter()

    def step(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        steps[name] = round(now - clock, 4)
        clock = now

    with _reading(source) as base:
        # the capability graph first: capability reach and everything after see the new grouping
        graph = regroup(base, config.capabilities)
        reader = graph.view
        step("capabilities")
        as_of = _as_of(reader, config)
        artifacts = reader.table(Table.ARTIFACTS, columns=["id", "type", "released", *SIGNALS])
        frame = artifacts.join(artifact_stats(reader), on="id", how="left").sort("id")
        step("aggregates")
        previous = reader.table(Table.SCORES, columns=["id", "quality_rating"])
        cells = preference_cells(reader.table(Table.PREFERRED_OVER))
        ratings = fit_ratings(cells, config, start=previous if previous.height else None)
        step("ratings")
        steps.update({f"ratings.{k}": float(v) for k, v in ratings.report.items()
                      if k in RATING_DETAILS and isinstance(v, int | float)})
        inputs = Inputs(reader=reader, frame=frame, as_of=as_of, config=config, ratings=ratings,
                        constants=config.constants)
        for sub in REGISTRY:
            part = sub.compute(inputs)
            frame = frame.join(part, on="id", how="left")
            step(sub.name)
        link_and_rank(graph, ratings, config, config.capabilities)
        step("seeks_and_boards")
    return Scored(_composite(frame, config, as_of), as_of, steps, graph)


def _composite(frame: pl.DataFrame, config: ScoringConfig, as_of: date) -> pl.DataFrame:
    weights = _weights_frame(frame.get_column("type"), config)
    frame = frame.with_columns(pl.col("type").fill_null("").alias("_wtype")).join(
        weights, left_on="_wtype", right_on="type", how="left").drop("_wtype")
    total = pl.sum_horizontal([pl.col(f"w_{s.name}") for s in REGISTRY])
    value = pl.sum_horizontal([pl.col(f"w_{s.name}") * pl.col(s.used or s.name) for s in REGISTRY])
    frame = frame.with_columns((value / total).round(6).alias("composite"))
    frame = frame.with_columns(pl.col("composite").round(0).cast(pl.Int64).clip(0, 100).alias("rank"))
    frame = frame.with_columns([pl.col(n).round(6).clip(0.0, 100.0) for n in NAMES])
    evidence_columns = [c for s in REGISTRY for c in s.evidence if c not in ("quality_rating", "quality_lo",
                                                                           "quality_hi", "comparisons",
                                                                           "low_confidence")]
    evidence = pl.struct(
        pl.lit(as_of.isoformat()).alias("as_of"),
        *[_evidence_value(frame.schema[c], c) for c in evidence_columns],
        pl.col("times_matched"), pl.col("clicks"),
        pl.struct([pl.col(f"w_{s.name}").alias(s.name) for s in REGISTRY]).alias("weights"),
    ).struct.json_encode()
    frame = frame.with_columns(evidence.alias("evidence"))
    return conform(Table.SCORES, frame.select("id", "rank", "quality_rating", "quality_lo", "quality_hi",
                                              "comparisons", "low_confidence", "evidence", *NAMES))


def _evidence_value(dtype: pl.DataType, column: str) -> pl.Expr:
    if dtype.is_float():  # nine significant digits: sums in another order differ only beyond them
        return pl.col(column).round_sig_figs(9)
    if dtype == pl.Date:
        return pl.col(column).cast(pl.String)
    return pl.col(column)


def compute_scores(source: GraphStore | Reader, config: ScoringConfig) -> pl.DataFrame:
    """The scores table alone (see :func:`compute`)."""
    return compute(source, config).scores


def _weights_frame(types: pl.Series, config: ScoringConfig) -> pl.DataFrame:
    rows = []
    for type_name in sorted(set(types.fill_null("").to_list())):
        row = config.weights.get(type_name, config.weights["default"])
        rows.append({"type": type_name, **{f"w_{k}": row[k] for k in NAMES}})
    schema = {"type": pl.String, **{f"w_{k}": pl.Float64 for k in NAMES}}
    return pl.DataFrame(rows, schema=schema)


@dataclass
class ScoreReport:
    run: str
    artifacts: int
    as_of: date
    low_confidence: int
    steps: dict[str, float] = field(default_factory=dict)
    changed: bool = True
    """False when the run found every rank as the previous run left it (no history row added)."""

    def summary(self) -> str:
        text = (f"scored {self.artifacts} artifact(s) as of {self.as_of.isoformat()} (run {self.run}); "
                f"{self.low_confidence} with too few comparisons for a confident quality")
        return text if self.changed else text + "; no rank changed"


def _capability_delta(delta: GraphDelta, graph: CapabilityGraph) -> None:
    """The capability graph's part of the run's delta: re-pointed statements, the canonical nodes
    (the ones no statement names any more removed), the intent links and the boards."""
    changed = graph.grouping.changed()
    if changed.height:
        delta.set(Table.HAS_CAPABILITY, changed)
    delta.set(Table.CAPABILITIES, graph.grouping.capabilities).set(Table.SEEKS, graph.seeks)
    delta.set(Table.BOARDS, graph.boards)
    if graph.grouping.removed:
        delta.remove(Table.CAPABILITIES, graph.grouping.removed)


def score(store: GraphStore, config: ScoringConfig) -> ScoreReport:
    """Compute every score and write them back to the store, with this run's ranks in the history."""
    result = compute(store, config)
    scores = result.scores
    now = config.now or datetime.now(UTC)
    run = now.strftime("%Y%m%dT%H%M%S%fZ")
    history = scores.select(pl.lit(run).alias("run"), pl.lit(now).alias("scored_at"), "id", "rank")
    started = time.perf_counter()
    delta = GraphDelta().set(Table.SCORES, scores).set(Table.RANK_HISTORY, history)
    if result.capabilities is not None:
        _capability_delta(delta, result.capabilities)
    store.apply(delta)
    steps = {**result.steps, "write": round(time.perf_counter() - started, 4)}
    return ScoreReport(run, scores.height, result.as_of, int(scores.get_column("low_confidence").sum()), steps)
