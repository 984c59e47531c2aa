"""A scoring run: every registered sub-score of every artifact, the composite rank, its evidence.

What each sub-score means and how it is computed lives with it in :mod:`queries.subscores`; this
module gathers their inputs once, runs them, combines them into the rank and writes the result.
"All sub-scores are 0-100", "within type" means among artifacts of the same ``type``, and
``as_of`` is the last day seen in the logs (never later than the run itself; the newest release
date when there are no logs), so the same input always gives the same scores.

rank
    The weighted mean of the sub-scores that have evidence, weights per type from ``weights.toml``
    over the registry's defaults, rounded to an integer; ``evidence_share`` is the share of the
    weight those sub-scores carry. Below ``MIN_EVIDENCE_SHARE`` an artifact is not ranked (the
    stored ``rank`` is kept for the record, but no answer shows it).
uncertainty
    Draws of every rating from its interval (a normal on each side of the estimate, the sides'
    widths those of the interval) give, per ranked artifact, a 95% interval of its composite and
    of its place within its type (``rank_lo``..``rank_hi`` of ``type_ranked``).
price
    A blended list price per million tokens, ``(3 input + output) / 4`` (the usual three-to-one
    mix; "free" without list prices is no price: open weights still cost what running them costs);
    an artifact is on its type's price-quality
    frontier when no artifact of its type costs no more and has a higher quality, else the
    cheapest such artifact is named.
"""

from __future__ import annotations

import time
import tomllib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from graph.schema import SIGNALS
from graph.tables import GraphDelta, Table, conform, preference_cells
from queries.capabilities import (
    LINK_COLUMNS,
    CapabilityConfig,
    CapabilityGraph,
    fit_boards,
    link_intents,
    read_for_boards,
    regroup,
)
from queries.rating import fit_quality
from queries.stats import artifact_stats
from queries.subscores import (
    DEFAULT_WEIGHTS,
    MIN_EVIDENCE_SHARE,
    NAMES,
    OPEN_SCORE_COLUMNS,
    REGISTRY,
    Constants,
    Inputs,
)
from queries.trust import log_sources

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
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
    rank_draws: int = 100
    """Draws behind each ranked artifact's composite interval and place range within its type."""
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

    # one worker beside this thread: it links intents while this thread fits the ratings, then fits
    # the boards while this one computes the sub-scores and the composite. It is given frames read
    # here (never the store, so no store transaction is shared between threads); numpy, polars and
    # the tokenizer release the GIL, so on two cores the two threads overlap.
    with ThreadPoolExecutor(1, thread_name_prefix="matchgraph-capabilities") as worker:
        with _reading(source) as base:
            # the capability graph first: capability reach and everything after see the new grouping
            graph = regroup(base, config.capabilities)
            reader = graph.view
            linking = worker.submit(_timed, link_intents,
                                    reader.table(Table.MATCHED, columns=list(LINK_COLUMNS)), graph.grouping,
                                    config.capabilities)
            step("capabilities")
            as_of = _as_of(reader, config)
            artifacts = reader.table(Table.ARTIFACTS, columns=["id", "type", "released", "pricing", "price_input",
                                                                "price_output", *SIGNALS])
            frame = artifacts.join(artifact_stats(reader), on="id", how="left").sort("id")
            totals = reader.table(Table.TOTALS, columns=["artifact", "clicks", "pairs", "pairs_sq"])
            logs = log_sources(reader)
            step("aggregates")
            previous = reader.table(Table.SCORES, columns=["id", "quality_rating"])
            cells = preference_cells(reader.table(Table.PREFERRED_OVER))
            ratings = fit_quality(cells, config, start=previous if previous.height else None, design_effect=totals)
            step("ratings")
            steps.update({f"ratings.{k}": float(v) for k, v in ratings.report.items()
                          if k in RATING_DETAILS and isinstance(v, int | float)})
            graph.seeks, steps["seeks.worker_s"] = linking.result()
            boarding = worker.submit(_timed, fit_boards, read_for_boards(reader, graph.seeks, config.capabilities),
                                     graph.grouping, graph.seeks, ratings, config, config.capabilities)
            step("seeks")
            inputs = Inputs(reader=reader, frame=frame, as_of=as_of, config=config, ratings=ratings,
                            constants=config.constants,
                            has_logs=totals.height > 0 or reader.table(Table.DAILY, columns=["day"]).height > 0)
            for sub in REGISTRY:
                part = sub.compute(inputs)
                frame = frame.join(part, on="id", how="left")
                step(sub.name)
        scores = _composite(frame, config, as_of, logs)
        step("composite")
        graph.boards, steps["boards.worker_s"] = boarding.result()
        step("boards")
    return Scored(scores, as_of, steps, graph)


def _timed(function: Callable[..., pl.DataFrame], *args: object) -> tuple[pl.DataFrame, float]:
    """The function's result and its own time (on a worker, it overlaps the caller's steps)."""
    started = time.perf_counter()
    return function(*args), round(time.perf_counter() - started, 4)


def _composite(frame: pl.DataFrame, config: ScoringConfig, as_of: date, logs: str) -> pl.DataFrame:
    weights = _weights_frame(frame.get_column("type"), config)
    frame = frame.with_columns(pl.col("type").fill_null("").alias("_wtype")).join(
        weights, left_on="_wtype", right_on="type", how="left").drop("_wtype")
    frame = frame.with_columns([pl.col(n).round(6).clip(0.0, 100.0) for n in NAMES])
    total = pl.sum_horizontal([pl.col(f"w_{s.name}") for s in REGISTRY])
    counted = pl.sum_horizontal([pl.col(f"w_{s.name}") * pl.col(s.name).is_not_null().cast(pl.Float64)
                                 for s in REGISTRY])
    value = pl.sum_horizontal([pl.col(f"w_{s.name}") * pl.col(s.name).fill_null(0.0) for s in REGISTRY])
    frame = frame.with_columns(
        pl.when(counted > 0).then(value / counted).otherwise(None).round(6).alias("composite"),
        (counted / total).round(6).alias("evidence_share"),
    )
    frame = frame.with_columns(pl.col("composite").round(0).cast(pl.Int64).clip(0, 100).fill_null(0).alias("rank"),
                               (pl.col("evidence_share") >= MIN_EVIDENCE_SHARE).alias("_ranked"))
    frame = _uncertainty(frame, config)
    frame = _price_frontier(frame)
    evidence_columns = [c for s in REGISTRY for c in s.evidence if c not in ("quality_rating", "quality_lo",
                                                                           "quality_hi", "comparisons",
                                                                           "low_confidence")]
    evidence = pl.struct(
        pl.lit(as_of.isoformat()).alias("as_of"),
        *[_evidence_value(frame.schema[c], c) for c in evidence_columns],
        pl.col("times_matched"), pl.col("clicks"),
        pl.struct([pl.col(f"w_{s.name}").alias(s.name) for s in REGISTRY]).alias("weights"),
        pl.col("evidence_share"), pl.col("composite"),
        pl.struct(pl.lit(logs).alias("logs")).alias("sources"),
        pl.struct(pl.col("price").round_sig_figs(9).alias("per_mtok"), pl.col("frontier"), pl.col("beaten_by"),
                  pl.col("beaten_by_price").round_sig_figs(9), pl.col("beaten_by_quality").round(2),
                  pl.col("priced_peers")).alias("price"),
    ).struct.json_encode()
    frame = frame.with_columns(evidence.alias("evidence"))
    return conform(Table.SCORES, frame.select("id", "rank", "quality_rating", "quality_lo", "quality_hi",
                                              "comparisons", "low_confidence", "evidence", *NAMES,
                                              *[pl.col(c).cast(pl.Float64) for c in OPEN_SCORE_COLUMNS
                                                if c != "rank_delta"],
                                              pl.lit(None, pl.Float64).alias("rank_delta")))


def _uncertainty(frame: pl.DataFrame, config: ScoringConfig, workers: int | None = None) -> pl.DataFrame:
    """Each ranked artifact's composite interval and its place (and place range) within its type.

    Only quality carries sampling uncertainty here (the other sub-scores count what the graph
    holds); its rating is drawn from a normal on each side of the estimate, scaled to the
    interval's two half-widths, and passed through the same blend and weighted mean as the score.
    ``workers`` (default: the polars thread budget) only changes how fast: the draws are the same.
    """
    draws = max(config.rank_draws, 1)
    ranked = frame.filter(pl.col("_ranked")).select(
        "id", pl.col("type").fill_null(""), "composite", "comparisons", "quality", "quality_rating", "quality_lo",
        "quality_hi", "choice_weight", "w_quality",
        pl.sum_horizontal([pl.col(f"w_{s.name}") * pl.col(s.name).is_not_null().cast(pl.Float64)
                           for s in REGISTRY]).alias("_counted"),
    ).sort("type", "composite", "id", descending=[False, True, False])
    empty = {c: pl.lit(None, pl.Float64).alias(c) for c in ("composite_lo", "composite_hi", "position", "rank_lo",
                                                            "rank_hi", "type_ranked")}
    if ranked.height == 0:
        return frame.with_columns(empty.values())
    n = ranked.height
    types = ranked.get_column("type").to_numpy()
    start = np.flatnonzero(np.concatenate([[True], types[1:] != types[:-1]]))
    sizes = np.diff(np.concatenate([start, [n]]))
    group = np.repeat(np.arange(start.size), sizes)
    composite = ranked.get_column("composite").to_numpy().astype(np.float64)
    theta = ranked.get_column("quality_rating").fill_null(0.0).to_numpy()
    down = (theta - ranked.get_column("quality_lo").fill_null(0.0).to_numpy()) / 1.959963984540054
    up = (ranked.get_column("quality_hi").fill_null(0.0).to_numpy() - theta) / 1.959963984540054
    moves = (ranked.get_column("comparisons").fill_null(0).to_numpy() > 0) & ranked.get_column("quality") \
        .is_not_null().to_numpy()
    # a unit change of the choice quality moves the composite by choice_weight * w_quality / counted
    slope = np.where(moves, ranked.get_column("choice_weight").fill_null(0.0).to_numpy()
                     * ranked.get_column("w_quality").to_numpy() / ranked.get_column("_counted").to_numpy(), 0.0)
    # only the artifacts whose quality moves are drawn through the blend; the rest keep their composite
    drawn_ids = np.flatnonzero(slope != 0.0)
    theta, down, up, slope = theta[drawn_ids], down[drawn_ids], up[drawn_ids], slope[drawn_ids]
    point = 100.0 / (1.0 + np.exp(-theta))
    base = composite[drawn_ids]
    rng = np.random.default_rng([config.seed, 14])
    # one row per draw while drawing (contiguous writes), one row per artifact for the percentiles
    samples = np.empty((draws, n), dtype=np.float32)
    places = np.empty((draws, n), dtype=np.int32)
    offset = np.repeat(start, sizes)
    type_key = group * 1000.0
    counting = np.arange(n, dtype=np.int32)

    def place(j: int, z: np.ndarray) -> None:
        value = composite.copy()
        value[drawn_ids] = base + slope * (100.0 / (1.0 + np.exp(-(theta + np.where(z < 0, down, up) * z))) - point)
        samples[j] = value
        # one stable sort of (type, value descending): composites lie in 0..100, so a type moves the
        # key by 1,000 (the same order as lexsort, twice as fast)
        order = np.argsort(type_key - value, kind="stable")
        places[j, order] = counting - offset[order] + 1

    # the draws come from the one generator in order (one number per artifact and draw, as the seed
    # has always given); each draw's sort runs on the polars thread budget, since numpy releases the
    # GIL while it sorts and scatters (the same arrays as one thread, in about 60% of the time on 2 cores)
    workers = min(pl.thread_pool_size() if workers is None else workers, draws)
    if workers <= 1:
        for j in range(draws):
            place(j, rng.standard_normal(n)[drawn_ids])
    else:
        with ThreadPoolExecutor(workers, thread_name_prefix="matchgraph-draws") as pool:
            pending: deque[Future[None]] = deque()
            for j in range(draws):
                pending.append(pool.submit(place, j, rng.standard_normal(n)[drawn_ids]))
                if len(pending) > 2 * workers:  # a few draws ahead, not all of them in memory
                    pending.popleft().result()
            for future in pending:
                future.result()
    samples, places = np.ascontiguousarray(samples.T), np.ascontiguousarray(places.T)
    low, high = np.percentile(samples, [2.5, 97.5], axis=1)
    # the place range: the 2.5% percentile rounded down and the 97.5% rounded up (numpy's "lower"
    # and "higher"), both from one partial sort of each artifact's places
    lowest, highest = int(np.floor(0.025 * (draws - 1))), int(np.ceil(0.975 * (draws - 1)))
    places.partition([lowest, highest], axis=1)
    out = pl.DataFrame({
        "id": ranked.get_column("id"),
        "composite_lo": np.round(np.minimum(low, composite), 4),
        "composite_hi": np.round(np.maximum(high, composite), 4),
        "position": (np.arange(n) - offset + 1).astype(np.float64),
        "rank_lo": places[:, lowest].astype(np.float64),
        "rank_hi": places[:, highest].astype(np.float64),
        "type_ranked": sizes[group].astype(np.float64),
    })
    out = out.with_columns(pl.min_horizontal("rank_lo", "position").alias("rank_lo"),
                           pl.max_horizontal("rank_hi", "position").alias("rank_hi"))
    return frame.join(out, on="id", how="left")


def _price_frontier(frame: pl.DataFrame) -> pl.DataFrame:
    """The blended price, and whether each priced artifact with a quality is on its type's frontier."""
    inp, outp = pl.col("price_input"), pl.col("price_output")
    price = (pl.when(inp.is_not_null() & outp.is_not_null()).then((3.0 * inp + outp) / 4.0)
             .when(inp.is_not_null()).then(inp).when(outp.is_not_null()).then(outp).otherwise(None))
    frame = frame.with_columns(price.alias("price"))
    priced = frame.filter(pl.col("price").is_not_null() & pl.col("quality").is_not_null()).select(
        "id", pl.col("type").fill_null(""), "price", "quality").sort("type", "price", "quality", "id",
                                                                     descending=[False, False, True, False])
    rows: list[tuple[str, bool, str | None, float | None, float | None, int]] = []
    for (_,), part in priced.group_by(["type"], maintain_order=True):
        ids = part.get_column("id").to_list()
        prices = part.get_column("price").to_numpy()
        qualities = part.get_column("quality").to_numpy()
        best = np.maximum.accumulate(qualities)
        before = np.concatenate([[-np.inf], best[:-1]])  # the best quality at no higher price, before each
        for i, art in enumerate(ids):
            if before[i] > qualities[i]:
                j = int(np.searchsorted(best, qualities[i], side="right"))  # the first to beat it
                rows.append((art, False, ids[j], float(prices[j]), float(qualities[j]), len(ids)))
            else:
                rows.append((art, True, None, None, None, len(ids)))
    view = pl.DataFrame(rows, schema={"id": pl.String, "frontier": pl.Boolean, "beaten_by": pl.String,
                                      "beaten_by_price": pl.Float64, "beaten_by_quality": pl.Float64,
                                      "priced_peers": pl.Int64}, orient="row")
    return frame.join(view, on="id", how="left")


def _evidence_value(dtype: pl.DataType, column: str) -> pl.Expr:
    if dtype.is_float():  # nine significant digits: sums in another order differ only beyond them
        return pl.col(column).round_sig_figs(9)
    if isinstance(dtype, pl.List):
        return pl.col(column)
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
    ranked: int | None = None
    """How many artifacts rest on enough evidence to be ranked."""

    def summary(self) -> str:
        text = f"scored {self.artifacts} artifact(s) as of {self.as_of.isoformat()} (run {self.run}); "
        if self.ranked is not None:
            text += f"{self.ranked} ranked, {self.artifacts - self.ranked} without enough evidence to rank; "
        text += f"{self.low_confidence} with too few comparisons for a confident quality"
        return text if self.changed else text + "; no rank changed"


def ranked_only(scores: pl.DataFrame) -> pl.DataFrame:
    """``id`` and ``rank`` of the artifacts a scores table ranks (scores written before evidence
    shares existed count as ranked)."""
    share = pl.col("evidence_share") if "evidence_share" in scores.columns else pl.lit(None, pl.Float64)
    return scores.filter(share.is_null() | (share >= MIN_EVIDENCE_SHARE)).select("id", "rank").sort("id")


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
    """Compute every score and write them back to the store.

    The ranks are compared with the previous run's: when no ranked artifact's rank changed (and
    the same artifacts are ranked), the rank history gets no row and each artifact keeps the change
    it showed since the run before; otherwise every ranked artifact's rank goes into the history
    with this run's as-of date, and ``rank_delta`` is the change since the previous run.
    """
    result = compute(store, config)
    scores = result.scores
    now = config.now or datetime.now(UTC)
    run = now.strftime("%Y%m%dT%H%M%S%fZ")
    before = store.table(Table.SCORES, columns=["id", "rank", "evidence_share", "rank_delta"])
    old, new = ranked_only(before), ranked_only(scores)
    changed = not old.equals(new)
    if changed:
        moved = new.join(old.rename({"rank": "_before"}), on="id", how="inner").select(
            "id", (pl.col("rank") - pl.col("_before")).cast(pl.Float64).alias("_delta"))
    else:
        moved = before.select("id", pl.col("rank_delta").alias("_delta"))
    scores = scores.drop("rank_delta").join(moved, on="id", how="left").rename({"_delta": "rank_delta"})
    delta = GraphDelta().set(Table.SCORES, scores)
    if changed and new.height:
        delta.set(Table.RANK_HISTORY, new.select(pl.lit(run).alias("run"), pl.lit(now).alias("scored_at"), "id",
                                                 "rank", pl.lit(result.as_of).alias("as_of")))
    started = time.perf_counter()
    if result.capabilities is not None:
        _capability_delta(delta, result.capabilities)
    store.apply(delta)
    steps = {**result.steps, "write": round(time.perf_counter() - started, 4)}
    return ScoreReport(run, scores.height, result.as_of, int(scores.get_column("low_confidence").sum()), steps,
                       changed=changed, ranked=new.height)
