"""The comparison page in markdown, in the structure of the seed page."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from queries.models import ArtifactDetail, Comparison

CAPABILITIES_SHOWN = 8
ROWS = ("adoption", "quality", "ecosystem", "match_graph")
ROW_LABELS = {"adoption": "Adoption", "quality": "Quality", "ecosystem": "Ecosystem", "match_graph": "Match Graph"}


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _title(text: str | None) -> str:
    return (text or "unknown").replace("_", " ").capitalize()


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
             f"| Type | {_title(a.type)} | {_title(b.type)} |",
             f"| Rank | {a.rank}/100 | {b.rank}/100 |"]
    for key in ROWS:
        lines.append(f"| {ROW_LABELS[key]} | {_cell(getattr(a.scores, key))} | {_cell(getattr(b.scores, key))} |")
    lines += [
        f"| Pricing | {_title(a.pricing)} | {_title(b.pricing)} |",
        f"| Capabilities | {a.capabilities_count} decomposed | {b.capabilities_count} decomposed |",
        f"| Times Matched | {a.times_matched} | {b.times_matched} |",
        "",
    ]
    lines += _capabilities(a) + _capabilities(b)
    lines += ["## Verdict", "", cmp.verdict, "", "## Need something different?", ""]
    if cmp.alternatives:
        for alt in cmp.alternatives:
            lines.append(f"- **{alt.name}** (`{alt.id}`, {alt.type}): rank {alt.rank}/100, {alt.reason}")
    else:
        lines.append("The match graph knows no alternatives to these two yet.")
    lines += ["", f"Search the match graph: `matchgraph search \"{a.type or 'artifact'}\"` or "
              f"`matchgraph alternatives {b.id}`", ""]
    return "\n".join(lines)
