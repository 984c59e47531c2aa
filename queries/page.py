"""The comparison page in markdown, in the structure of the seed page: headline, the table, the
verdict right after it, the evidence about the pair, then capabilities and alternatives."""

from __future__ import annotations

from typing import TYPE_CHECKING

from graph.schema import type_label

if TYPE_CHECKING:
    from queries.models import ArtifactDetail, Comparison

CAPABILITIES_SHOWN = 8
ROWS = ("adoption", "quality", "ecosystem", "match_graph")
ROW_LABELS = {"adoption": "Adoption", "quality": "Quality", "ecosystem": "Ecosystem", "match_graph": "Match Graph"}
NO_NUMBER = "–"
"""What a page shows where there is no evidence for a number."""


def _cell(value: float | None) -> str:
    return NO_NUMBER if value is None else f"{value:.0f}"


def _title(text: str | None) -> str:
    return (text or "unknown").replace("_", " ").capitalize()


def rank_text(side: ArtifactDetail) -> str:
    """``76/100 (2nd-5th of 40 models)``, or why there is no rank."""
    s = side.standing
    if s is None:
        return "not scored"
    if side.rank is None:
        return f"not ranked ({s.evidence_share:.0%} of the weight has evidence)"
    if s.place is None or s.of is None:
        return f"{side.rank}/100"
    where = (f"#{s.place_range[0]}–{s.place_range[1]}" if s.place_range and s.place_range[0] != s.place_range[1]
             else f"#{s.place}")
    return f"{side.rank}/100 ({where} of {s.of})"


def quality_text(side: ArtifactDetail) -> str:
    q = side.quality
    if q.value is None:
        return NO_NUMBER
    if q.choices_interval is not None:
        return f"{q.value:.0f} (choices {q.choices_interval[0]:.0f}–{q.choices_interval[1]:.0f})"
    return f"{q.value:.0f} (benchmarks)" if q.benchmarks is not None else f"{q.value:.0f}"


def _capabilities(side: ArtifactDetail) -> list[str]:
    lines = [f"## {side.name} Capabilities", ""]
    if not side.capabilities:
        lines += ["No decomposed capabilities in the catalog.", ""]
    for cap in side.capabilities[:CAPABILITIES_SHOWN]:
        lines.append(f"**{cap.name}**")
        if cap.description:
            lines.append(cap.description)
        if cap.unique:
            lines.append(f"Unique: {cap.unique}")
        if cap.vs_alternatives:
            lines.append(f"vs alternatives: {cap.vs_alternatives}")
        lines.append("")
    extra = len(side.capabilities) - CAPABILITIES_SHOWN
    if extra > 0:
        lines += [f"+{extra} more capabilities", ""]
    return lines


def render_markdown(cmp: Comparison) -> str:
    a, b = cmp.a, cmp.b
    lines = [f"# {a.name} vs {b.name}", "", cmp.headline, "",
             f"| Feature | {a.name} | {b.name} |", "|---|---|---|",
             f"| Type | {type_label(a.type)} | {type_label(b.type)} |",
             f"| Rank | {rank_text(a)} | {rank_text(b)} |"]
    for key in ROWS:
        if key == "quality":
            lines.append(f"| Quality | {quality_text(a)} | {quality_text(b)} |")
            continue
        lines.append(f"| {ROW_LABELS[key]} | {_cell(getattr(a.scores, key))} | {_cell(getattr(b.scores, key))} |")
    prices = [side.price.starting if side.price else _title(side.pricing) for side in (a, b)]
    lines += [
        f"| Pricing | {_title(a.pricing)} | {_title(b.pricing)} |",
        f"| Starting Price | {prices[0]} | {prices[1]} |",
        f"| Capabilities | {a.capabilities_count} decomposed | {b.capabilities_count} decomposed |",
        f"| Times Matched | {a.times_matched} | {b.times_matched} |",
        "",
        "## Verdict", "", cmp.verdict, "",
    ]
    if cmp.head_to_head is not None:
        lines += ["## Head to head", "", cmp.head_to_head.sentence, ""]
    notes = [f"- **{side.name}**: {side.price.note}" for side in (a, b) if side.price is not None]
    if notes:
        lines += ["## Price and quality", "", *notes, ""]
    lines += _capabilities(a) + _capabilities(b)
    lines += ["## Need something different?", ""]
    if cmp.alternatives:
        for alt in cmp.alternatives:
            kind = type_label(alt.type) if alt.type else "known only from search logs"
            rank = f"rank {alt.rank}/100" if alt.rank is not None else "not ranked"
            lines.append(f"- **{alt.name}** (`{alt.id}`, {kind}): {rank}, {alt.reason}")
    else:
        lines.append("The match graph knows no alternatives to these two yet.")
    lines += ["", f"Search the match graph: `matchgraph search \"{a.type or 'artifact'}\"` or "
              f"`matchgraph alternatives {b.id}`", ""]
    return "\n".join(lines)
