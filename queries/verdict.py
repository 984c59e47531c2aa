"""The rules of the comparison page's headline and verdict, written down in one place.

* Ranks are computed within each type. Two artifacts of different types are shown side by side:
  no winner, no "ranks higher".
* An artifact resting on too little evidence has no rank (``queries.subscores.MIN_EVIDENCE_SHARE``);
  the page says so instead of comparing numbers.
* Otherwise the side with the higher rank wins, unless the ranks are less than ``TIE_MARGIN``
  points apart (a tie) or the two composites' 95% intervals overlap (too close to call): two
  artifacts whose intervals overlap are never presented as ordered.
* A side *leads on* a sub-score when both have evidence there and it is at least ``LEAD_MARGIN``
  points ahead; closer than that, neither leads.
* Evidence from searches is *thin* when a side has fewer than ``THIN_EVIDENCE`` matching searches
  plus comparisons; the verdict then names what its rank does rest on.
* What the ranks rest on is said as it is: search data, synthetic sample logs, or no logs at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graph.schema import type_label, type_plural

if TYPE_CHECKING:
    from queries.models import ArtifactDetail

TIE_MARGIN = 3
LEAD_MARGIN = 5.0
THIN_EVIDENCE = 10
LABELS = {"adoption": "adoption", "quality": "quality", "ecosystem": "ecosystem", "match_graph": "match graph",
          "freshness": "freshness"}
EVIDENCE = {
    "real": "Capability-level comparison backed by match graph evidence from real search data.",
    "mixed": "Capability-level comparison backed by match graph evidence from search data, part of it synthetic.",
    "synthetic": "Capability-level comparison; the match graph comes from synthetic sample logs, not from real "
                 "searches.",
    "none": "Capability-level comparison from catalog data alone: no search logs have been ingested.",
}


def _logs(a: ArtifactDetail, b: ArtifactDetail) -> str:
    return a.logs or b.logs or "none"


def _overlap(a: ArtifactDetail, b: ArtifactDetail) -> bool:
    ia = a.standing.interval if a.standing else None
    ib = b.standing.interval if b.standing else None
    return ia is not None and ib is not None and ia[0] <= ib[1] and ib[0] <= ia[1]


def winner(a: ArtifactDetail, b: ArtifactDetail) -> str | None:
    if a.type != b.type or a.rank is None or b.rank is None or abs(a.rank - b.rank) < TIE_MARGIN:
        return None
    if _overlap(a, b):
        return None
    return a.id if a.rank > b.rank else b.id


def leads(a: ArtifactDetail, b: ArtifactDetail) -> dict[str, str | None]:
    """For each sub-score, the id of the side that leads on it, or None (also where either side
    has no evidence there)."""
    out: dict[str, str | None] = {}
    for key in LABELS:
        va, vb = getattr(a.scores, key), getattr(b.scores, key)
        if va is None or vb is None or abs(va - vb) < LEAD_MARGIN:
            out[key] = None
        else:
            out[key] = a.id if va > vb else b.id
    return out


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _evidence(x: ArtifactDetail) -> int:
    return x.times_matched + x.quality.comparisons


def _share(x: ArtifactDetail) -> str:
    return f"{x.standing.evidence_share:.0%}" if x.standing else "none"


def _counted(x: ArtifactDetail) -> str:
    counted = x.standing.counted if x.standing else []
    return f" ({_join([LABELS[k] for k in counted])})" if counted else ""


def _place(x: ArtifactDetail) -> str:
    s = x.standing
    if s is None or s.place is None or s.of is None:
        return f"{x.rank}/100"
    spread = (f", plausibly {s.place_range[0]} to {s.place_range[1]}" if s.place_range and
              s.place_range[0] != s.place_range[1] else "")
    return f"{x.rank}/100, {s.place} of {s.of} {type_plural(x.type)}{spread}"


def headline(a: ArtifactDetail, b: ArtifactDetail) -> str:
    evidence = EVIDENCE[_logs(a, b)]
    if a.type != b.type:
        return (f"{a.name} ({type_label(a.type)}) and {b.name} ({type_label(b.type)}) side by side: ranks are "
                f"computed within each type, so neither is ranked above the other. {evidence}")
    unranked = [x for x in (a, b) if x.rank is None]
    if unranked:
        names = _join([x.name for x in unranked])
        return f"Not enough evidence to rank {names}, so the two are not ranked against each other. {evidence}"
    win = winner(a, b)
    if win is not None:
        hi, lo = (a, b) if win == a.id else (b, a)
        return f"{hi.name} ranks higher at {hi.rank}/100 vs {lo.name} at {lo.rank}/100. {evidence}"
    if a.rank is not None and b.rank is not None and abs(a.rank - b.rank) < TIE_MARGIN:
        return f"{a.name} and {b.name} are level at {a.rank}/100 and {b.rank}/100. {evidence}"
    return (f"{a.name} ({a.rank}/100) and {b.name} ({b.rank}/100) are too close to call: their 95% intervals "
            f"overlap. {evidence}")


def _first(a: ArtifactDetail, b: ArtifactDetail) -> str:
    if a.type != b.type:
        return (f"{a.name} is ranked among {type_plural(a.type)} ({_place(a) if a.rank is not None else 'unranked'})"
                f" and {b.name} among {type_plural(b.type)} ({_place(b) if b.rank is not None else 'unranked'}).")
    unranked = [x for x in (a, b) if x.rank is None]
    if unranked:
        return " ".join(f"{x.name} is not ranked: only {_share(x)} of the rank's weight rests on evidence"
                        f"{_counted(x)}." for x in unranked)
    win = winner(a, b)
    if win is not None:
        hi, lo = (a, b) if win == a.id else (b, a)
        return f"{hi.name} scores higher at {_place(hi)} vs {lo.name} at {_place(lo)}."
    if a.rank is not None and b.rank is not None and abs(a.rank - b.rank) < TIE_MARGIN:
        return f"{a.name} ({a.rank}/100) and {b.name} ({b.rank}/100) are within {TIE_MARGIN} points: a tie."
    ia, ib = a.standing.interval if a.standing else None, b.standing.interval if b.standing else None
    spans = (f" ({ia[0]:.0f} to {ia[1]:.0f} and {ib[0]:.0f} to {ib[1]:.0f})" if ia and ib else "")
    return (f"{a.name} ({a.rank}/100) and {b.name} ({b.rank}/100) differ by less than their uncertainty: the 95% "
            f"intervals of their scores{spans} overlap, so neither is ahead.")


def _bases(x: ArtifactDetail) -> list[str]:
    bases = []
    if x.times_matched or x.quality.comparisons:
        bases.append("search logs")
    if x.signals:
        bases.append("catalog signals (" + ", ".join(sorted(x.signals)) + ")")
    if x.quality.benchmark_results:
        bases.append("benchmark results")
    if x.scores.ecosystem is not None:
        bases.append("catalog links")
    if x.released is not None:
        bases.append("its release date")
    return bases


def verdict(a: ArtifactDetail, b: ArtifactDetail) -> str:
    lead = leads(a, b)
    both = [k for k in LABELS if getattr(a.scores, k) is not None and getattr(b.scores, k) is not None]
    a_keys = [LABELS[k] for k, v in lead.items() if v == a.id]
    b_keys = [LABELS[k] for k, v in lead.items() if v == b.id]
    if a_keys and b_keys:
        second = f"{a.name} leads on {_join(a_keys)}, while {b.name} is stronger on {_join(b_keys)}."
    elif a_keys or b_keys:
        side, keys = (a, a_keys) if a_keys else (b, b_keys)
        second = f"{side.name} leads on {_join(keys)}"
        second += (f"; neither side leads elsewhere by {LEAD_MARGIN:g} points." if len(both) > len(keys) else ".")
    elif both:
        second = f"Neither side leads on any sub-score by {LEAD_MARGIN:g} points or more."
    else:
        second = "No sub-score has evidence on both sides, so none is compared."
    parts = [_first(a, b), second]
    logs = _logs(a, b)
    for x in (a, b):
        if _evidence(x) >= THIN_EVIDENCE:
            continue
        bases = [base for base in _bases(x) if base != "search logs"]
        rests = f"rests mostly on {_join(bases)}" if bases else "has little else to rest on in the catalog"
        if logs == "none":
            parts.append(f"With no search logs, {x.name}'s standing {rests}.")
        else:
            source = "synthetic sample logs" if logs == "synthetic" else "searches"
            parts.append(f"Evidence from {source} is thin for {x.name} ({x.times_matched} matches, "
                         f"{x.quality.comparisons} comparisons), so its standing {rests}.")
    return " ".join(parts)
