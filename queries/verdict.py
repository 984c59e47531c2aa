"""The rules of the comparison page's headline and verdict, written down in one place.

* The side with the higher rank wins; ranks less than ``TIE_MARGIN`` points apart are a tie, and a
  tie names no winner.
* A side *leads on* a sub-score when it is at least ``LEAD_MARGIN`` points ahead there; closer than
  that, neither leads.
* Evidence is *thin* when either side has fewer than ``THIN_EVIDENCE`` searches matching it plus
  comparisons; the verdict then says the ranks rest mostly on catalog signals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from queries.models import ArtifactDetail

TIE_MARGIN = 3
LEAD_MARGIN = 5.0
THIN_EVIDENCE = 10
LABELS = {"adoption": "adoption", "quality": "quality", "ecosystem": "ecosystem", "match_graph": "match graph",
          "freshness": "freshness"}


def winner(a: ArtifactDetail, b: ArtifactDetail) -> str | None:
    if a.rank is None or b.rank is None or abs(a.rank - b.rank) < TIE_MARGIN:
        return None
    return a.id if a.rank > b.rank else b.id


def leads(a: ArtifactDetail, b: ArtifactDetail) -> dict[str, str | None]:
    """For each sub-score, the id of the side that leads on it, or None."""
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


def headline(a: ArtifactDetail, b: ArtifactDetail) -> str:
    win = winner(a, b)
    if win is None:
        return (f"{a.name} and {b.name} are level at {a.rank}/100 and {b.rank}/100. "
                "Capability-level comparison backed by match graph evidence from real search data.")
    hi, lo = (a, b) if win == a.id else (b, a)
    return (f"{hi.name} ranks higher at {hi.rank}/100 vs {lo.name} at {lo.rank}/100. "
            "Capability-level comparison backed by match graph evidence from real search data.")


def verdict(a: ArtifactDetail, b: ArtifactDetail) -> str:
    win = winner(a, b)
    lead = leads(a, b)
    if win is None:
        first = f"{a.name} ({a.rank}/100) and {b.name} ({b.rank}/100) are within {TIE_MARGIN} points: a tie."
    else:
        hi, lo = (a, b) if win == a.id else (b, a)
        first = f"{hi.name} scores higher at {hi.rank}/100 vs {lo.name} at {lo.rank}/100."
    a_keys = [LABELS[k] for k, v in lead.items() if v == a.id]
    b_keys = [LABELS[k] for k, v in lead.items() if v == b.id]
    if a_keys and b_keys:
        second = f"{a.name} leads on {_join(a_keys)}, while {b.name} is stronger on {_join(b_keys)}."
    elif a_keys or b_keys:
        side, keys = (a, a_keys) if a_keys else (b, b_keys)
        second = f"{side.name} leads on {_join(keys)}; neither side leads elsewhere by {LEAD_MARGIN:g} points."
    else:
        second = f"Neither side leads on any sub-score by {LEAD_MARGIN:g} points or more."
    parts = [first, second]
    thin = [x for x in (a, b) if _evidence(x) < THIN_EVIDENCE]
    if thin:
        names = _join([f"{x.name} ({x.times_matched} matches, {x.quality.comparisons} comparisons)" for x in thin])
        parts.append(f"Evidence from searches is thin for {names}, so these ranks rest mostly on catalog signals.")
    return " ".join(parts)
