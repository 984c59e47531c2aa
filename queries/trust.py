"""What a reader needs to trust an answer: how much evidence stands behind it, how sure it is, what
it costs, and what the pair being compared did when shown together.

Every function here builds part of an answer from rows the engine has already read (or, for the
head-to-head, from the two artifacts' own rows), so none of them reads a whole table.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import polars as pl

from graph.schema import is_synthetic_source, type_plural
from graph.tables import Table, tuples
from queries.models import (
    ArtifactSummary,
    BenchmarkResult,
    HeadToHead,
    ListedArtifact,
    Mover,
    Movers,
    PricePeer,
    PriceView,
    Standing,
)
from queries.subscores import MIN_EVIDENCE_SHARE, NAMES

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from graph.store import Reader
    from queries.models import ArtifactDetail

Z95 = 1.959963984540054


def log_sources(reader: Reader) -> str:
    """What the search logs in the graph are: ``none``, ``synthetic``, ``real`` or ``mixed`` (by
    the ingest ledger's file names, :func:`graph.schema.is_synthetic_source`)."""
    ledger = reader.table(Table.LEDGER, columns=["source", "kind"]).filter(pl.col("kind") == "logs")
    if ledger.height == 0:
        return "none"
    synthetic = {is_synthetic_source(s) for s in ledger.get_column("source").to_list()}
    return "mixed" if len(synthetic) == 2 else ("synthetic" if True in synthetic else "real")


def _int(value: float | None) -> int | None:
    return None if value is None else int(round(value))


def standing(row: dict[str, Any]) -> Standing | None:
    """The standing of a scored artifact's row (``None`` without a score). Scores written before
    evidence shares existed count as resting wholly on evidence."""
    if row.get("rank") is None:
        return None
    share = row.get("evidence_share")
    share = 1.0 if share is None else float(share)
    low, high = row.get("composite_lo"), row.get("composite_hi")
    first, last = row.get("rank_lo"), row.get("rank_hi")
    return Standing(
        ranked=share >= MIN_EVIDENCE_SHARE, evidence_share=round(share, 4),
        counted=[n for n in NAMES if row.get(n) is not None],
        composite=round(row["composite"], 2) if row.get("composite") is not None else None,
        interval=(round(low, 2), round(high, 2)) if low is not None and high is not None else None,
        place=_int(row.get("position")),
        place_range=(int(first), int(last)) if first is not None and last is not None else None,
        of=_int(row.get("type_ranked")), rank_change=_int(row.get("rank_delta")),
    )


def ranked_rows(scores: pl.DataFrame) -> pl.DataFrame:
    """Score rows of ranked artifacts only."""
    share = pl.col("evidence_share")
    return scores.filter(share.is_null() | (share >= MIN_EVIDENCE_SHARE))


def quality_view(row: dict[str, Any], evidence: dict[str, Any]) -> dict[str, Any]:
    """The 0-100 parts of quality: its value, what people chose (with its interval), the benchmark
    results, and what each weighed."""
    low, high = evidence.get("quality_choices_lo"), evidence.get("quality_choices_hi")
    weights = {name: round(float(evidence.get(f"{name}_weight") or 0.0), 4)
               for name in ("choice", "benchmark", "type_average")}
    return {
        "value": round(row["quality"], 2) if row.get("quality") is not None else None,
        "choices": round(evidence["quality_choices"], 2) if evidence.get("quality_choices") is not None else None,
        "choices_interval": (round(low, 2), round(high, 2)) if low is not None and high is not None else None,
        "benchmarks": (round(evidence["quality_benchmarks"], 2) if evidence.get("quality_benchmarks") is not None
                       else None),
        "benchmark_results": [BenchmarkResult(**r) for r in evidence.get("benchmark_results") or []],
        "weights": {{"choice": "choices", "benchmark": "benchmarks"}.get(k, k): v for k, v in weights.items() if v > 0},
        "rating_sd": round(evidence["quality_sd"], 4) if evidence.get("quality_sd") is not None else None,
    }


def money(value: float) -> str:
    """USD as a page writes it: cents for a dollar or more, significant digits below."""
    if value == 0:
        return "$0"
    return f"${value:,.2f}" if value >= 1 else f"${value:.3g}"


def starting_price(pricing: str | None, price_in: float | None, price_out: float | None) -> str:
    if price_in is not None and price_out is not None:
        if price_in == 0 and price_out == 0:
            return "Free"
        return f"{money(price_in)} in / {money(price_out)} out per 1M tokens"
    if price_in is not None or price_out is not None:
        which, value = ("input", price_in) if price_in is not None else ("output", price_out)
        return f"{money(value or 0.0)} per 1M {which} tokens"
    return {"free": "Free", "freemium": "Free tier, then paid (no list price in the catalog)",
            "paid": "Paid (no list price in the catalog)"}.get(pricing or "", "Not given")


def price_view(row: dict[str, Any], evidence: dict[str, Any],
               names: Callable[[Sequence[str]], dict[str, str]]) -> PriceView:
    """The catalog's prices and where they put the artifact among its type."""
    price = evidence.get("price") or {}
    per_mtok, frontier, beaten = price.get("per_mtok"), price.get("frontier"), price.get("beaten_by")
    peers = int(price.get("priced_peers") or 0)
    kinds = type_plural(row.get("type"))
    peer = None
    if frontier is None:
        why = "no per-token list price in the catalog" if per_mtok is None else "no quality evidence"
        note = f"Not placed against other {kinds} on price and quality: {why}."
    elif frontier:
        note = (f"On the price-quality frontier of {kinds}: none of the {peers} with a price and a quality costs "
                f"no more and scores higher." if peers > 1 else
                f"The only one of the {kinds} with both a price and a quality, so nothing to weigh it against.")
    else:
        beaten = str(beaten)
        name = names([beaten]).get(beaten, beaten)
        peer = PricePeer(id=beaten, name=name, per_mtok=price["beaten_by_price"], quality=price["beaten_by_quality"])
        cost = "costs less" if peer.per_mtok < (per_mtok or 0.0) else "costs no more"
        own = row.get("quality")
        note = (f"Not on the price-quality frontier: {name} {cost} ({money(peer.per_mtok)} against "
                f"{money(per_mtok or 0.0)} per 1M tokens, blended) and scores higher on quality "
                f"({peer.quality:.0f} against {own:.0f}).")
    return PriceView(pricing=row.get("pricing"), input=row.get("price_input"), output=row.get("price_output"),
                     starting=starting_price(row.get("pricing"), row.get("price_input"), row.get("price_output")),
                     per_mtok=per_mtok, frontier=frontier, beaten_by=peer, peers=peers, note=note)


def listed(items: Sequence[ArtifactSummary], offset: int) -> list[ListedArtifact]:
    """Places on a ranked list, ``offset`` items down: an artifact whose composite interval reaches
    that of the first of the group above it shares that one's place, and both are marked tied; two
    artifacts whose intervals overlap are never presented as ordered."""
    out: list[ListedArtifact] = []
    leader: ListedArtifact | None = None
    for i, item in enumerate(items):
        interval = item.standing.interval if item.standing else None
        lead = leader.standing.interval if leader is not None and leader.standing else None
        if leader is not None and interval is not None and lead is not None and interval[1] >= lead[0]:
            leader.tied = True
            out.append(ListedArtifact(**item.model_dump(), place=leader.place, tied=True))
            continue
        leader = ListedArtifact(**item.model_dump(), place=offset + i + 1, tied=False)
        out.append(leader)
    return out


def movers(changed: pl.DataFrame, limit: int,
           summaries: Callable[[Sequence[str]], dict[str, ArtifactSummary]]) -> Movers:
    """The ``limit`` biggest rises and falls of rank (``changed``: ``id``, ``rank_delta``)."""
    up = changed.filter(pl.col("rank_delta") > 0).sort(["rank_delta", "id"], descending=[True, False]).head(limit)
    down = changed.filter(pl.col("rank_delta") < 0).sort(["rank_delta", "id"]).head(limit)
    found = summaries([*up.get_column("id").to_list(), *down.get_column("id").to_list()])

    def rows(frame: pl.DataFrame) -> list[Mover]:
        return [Mover(**found[i].model_dump(), change=int(d)) for i, d in frame.select("id", "rank_delta").iter_rows()
                if i in found]

    return Movers(risers=rows(up), fallers=rows(down))


def _times(n: int) -> str:
    return {0: "never", 1: "once", 2: "twice"}.get(n, f"{n} times")


def head_to_head(reader: Reader, a: ArtifactDetail, b: ArtifactDetail, co: pl.DataFrame) -> HeadToHead:
    """Searches that showed both, the choices between them, and the model's chance that a person
    prefers ``a`` (the difference of the two ratings; their covariance is left out, which the
    interval's width, from each rating's widened sd, more than makes up for). ``co`` holds ``a``'s
    co-match edges."""
    pair = {a.id, b.id}
    shown = sum(n for x, y, n in tuples(co, "a", "b", "count") if {x, y} == pair)
    prefs = reader.table(Table.PREFERRED_OVER, [a.id], columns=["winner", "loser", "count"])
    between = prefs.filter(pl.col("winner").is_in(list(pair)) & pl.col("loser").is_in(list(pair)))
    a_over_b = sum(n for w, lost, n in between.iter_rows() if (w, lost) == (a.id, b.id))
    b_over_a = sum(n for w, lost, n in between.iter_rows() if (w, lost) == (b.id, a.id))
    qa, qb = a.quality, b.quality
    probability = interval = None
    if (qa.rating is not None and qb.rating is not None and qa.comparisons > 0 and qb.comparisons > 0
            and qa.rating_sd is not None and qb.rating_sd is not None):
        gap, spread = qa.rating - qb.rating, math.hypot(qa.rating_sd, qb.rating_sd)

        def chance(x: float) -> float:
            return 1.0 / (1.0 + math.exp(-x))

        probability = round(chance(gap), 4)
        interval = (round(chance(gap - Z95 * spread), 4), round(chance(gap + Z95 * spread), 4))
    logs = a.logs or b.logs or "none"
    if logs == "none":
        sentence = (f"There are no search logs yet, so no one has been seen choosing between {a.name} and {b.name}.")
    else:
        where = "in the synthetic sample logs" if logs == "synthetic" else "in the search logs"
        if shown == 0:
            sentence = f"{a.name} and {b.name} never appeared in the same search {where}"
            sentence += (f"; from their comparisons with others, the model gives {a.name} a {probability:.0%} chance "
                         f"(95% interval {interval[0]:.0%} to {interval[1]:.0%}) of being preferred over {b.name}."
                         if probability is not None and interval is not None else
                         ", and one of them has no comparisons at all, so the model cannot say which people prefer.")
        else:
            sentence = (f"{a.name} and {b.name} were shown together in {shown} search{'es' if shown != 1 else ''} "
                        f"{where}: people chose {a.name} over {b.name} {_times(a_over_b)} and {b.name} over "
                        f"{a.name} {_times(b_over_a)}")
            sentence += (f". The model gives {a.name} a {probability:.0%} chance (95% interval {interval[0]:.0%} to "
                         f"{interval[1]:.0%}) of being preferred over {b.name} when both are shown at the same place."
                         if probability is not None and interval is not None else ".")
    return HeadToHead(shown_together=shown, a_over_b=a_over_b, b_over_a=b_over_a, probability=probability,
                      interval=interval, sentence=sentence)
