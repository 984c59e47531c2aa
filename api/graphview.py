"""Server-side drawings as plain SVG data: a neighbourhood in rings, and a rank history chart.

No script and no CDN: the templates write these coordinates into inline SVG.

The neighbourhood is drawn in rings around the centre, one ring per hop, so a deeper view draws
more, further out. The first ring is ordered by a seeded spring layout of the subgraph (nodes
that are linked among themselves sit next to each other), each outer node near the angle of the
nodes that reached it. Labels sit outside their node, on the side away from the centre, and the
view box is grown to hold every label, so none is cut off however the page is scaled.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from pydantic import BaseModel

if TYPE_CHECKING:
    from queries.models import HistoryPoint, Subgraph

EDGE_COLORS = {"CO_MATCHED": "#4f7cac", "DERIVED_FROM": "#b5651d", "INTEGRATES_WITH": "#5a9e6f"}
EDGE_LABELS = {"CO_MATCHED": "shown in the same searches", "DERIVED_FROM": "derived from",
               "INTEGRATES_WITH": "integrates with"}
RING_FILLS = ("#4f7cac", "#c9daef", "#e3ecf6", "#f1f5fa")
LABEL_CHARS = 26
CHAR_W = 6.4  # px per character of the 11px label font, a little generous
RING_GAP = 120.0


class DrawnNode(BaseModel):
    id: str
    name: str
    label: str
    x: float
    y: float
    r: float
    center: bool
    depth: int
    rank: int | None
    fill: str
    lx: float
    ly: float
    anchor: str


class DrawnEdge(BaseModel):
    x1: float
    y1: float
    x2: float
    y2: float
    type: str
    color: str
    width: float
    spoke: bool
    """An edge from the centre (the others join neighbours among themselves)."""
    kind: str
    """``spoke`` (from the centre), ``tree`` (between rings) or ``ring`` (within a ring): the
    template draws the first strongest and the last faintest, so links among neighbours show
    without hiding the shape."""
    opacity: float
    title: str


class Drawing(BaseModel):
    width: int
    height: int
    view: tuple[float, float, float, float]
    nodes: list[DrawnNode]
    edges: list[DrawnEdge]
    rings: list[float]


def _angles(sub: Subgraph) -> dict[str, float]:
    """Each non-centre node's angle: ring 1 by a spring layout, outer rings near their parents."""
    import networkx as nx

    graph: nx.Graph = nx.Graph()
    graph.add_nodes_from(n.id for n in sub.nodes)
    graph.add_edges_from((e.source, e.target) for e in sub.edges)
    depth = {n.id: n.depth for n in sub.nodes}
    pos = nx.spring_layout(graph, seed=7, center=(0.0, 0.0)) if graph.number_of_nodes() > 1 else {}
    cx, cy = pos.get(sub.center, (0.0, 0.0))
    angles: dict[str, float] = {}
    deepest = max(depth.values(), default=0)
    for level in range(1, deepest + 1):
        ring = sorted(n for n, d in depth.items() if d == level)
        if not ring:
            continue
        wanted = {}
        for node in ring:
            parents = [angles[p] for p in graph.neighbors(node) if depth.get(p) == level - 1 and p in angles]
            if parents:  # the circular mean of the parents' angles
                wanted[node] = math.atan2(sum(map(math.sin, parents)), sum(map(math.cos, parents)))
            else:
                x, y = pos.get(node, (1.0, 0.0))
                wanted[node] = math.atan2(y - cy, x - cx)
        ordered = sorted(ring, key=lambda n: (wanted[n], n))
        start = wanted[ordered[0]]
        step = 2 * math.pi / len(ordered)
        for i, node in enumerate(ordered):  # evenly spread, in the wanted order
            angles[node] = start + i * step
    return angles


def draw(sub: Subgraph, width: int = 760) -> Drawing:
    """Rings of ``RING_GAP`` per hop (the first wider when it is crowded), labels outside."""
    depth = {n.id: n.depth for n in sub.nodes}
    deepest = max(depth.values(), default=0)
    crowd = max((sum(1 for d in depth.values() if d == level) for level in range(1, deepest + 1)), default=0)
    gap = max(RING_GAP, crowd * 22.0 / (2 * math.pi))  # room for about 22 px of arc per node
    angles = _angles(sub)
    where: dict[str, tuple[float, float]] = {sub.center: (0.0, 0.0)}
    for node, angle in angles.items():
        radius = gap * depth[node]
        where[node] = (round(radius * math.cos(angle), 1), round(radius * math.sin(angle), 1))
    nodes: list[DrawnNode] = []
    xs, ys = [0.0], [0.0]
    for n in sub.nodes:
        x, y = where[n.id]
        center = n.id == sub.center
        r = 18.0 if center else round(6 + (n.rank or 0) / 100 * 8, 1)
        label = n.name if len(n.name) <= LABEL_CHARS else n.name[: LABEL_CHARS - 1] + "…"
        angle = math.atan2(y, x) if not center else math.pi / 2
        lx, ly = x + (r + 4) * math.cos(angle), y + (r + 4) * math.sin(angle) + 4
        anchor = "middle" if center or abs(math.cos(angle)) < 0.3 else ("start" if math.cos(angle) > 0 else "end")
        if center:
            ly = y + r + 16
        text_w = len(label) * CHAR_W
        left = lx - (text_w / 2 if anchor == "middle" else (text_w if anchor == "end" else 0))
        xs += [x - r, x + r, left, left + text_w]
        ys += [y - r, y + r, ly - 12, ly + 4]
        nodes.append(DrawnNode(id=n.id, name=n.name, label=label, x=x, y=y, r=r, center=center, depth=n.depth,
                               rank=n.rank, fill=RING_FILLS[min(n.depth, len(RING_FILLS) - 1)],
                               lx=round(lx, 1), ly=round(ly, 1), anchor=anchor))
    heaviest = max((e.weight for e in sub.edges), default=1.0) or 1.0
    edges = []
    names = {n.id: n.name for n in sub.nodes}
    for e in sub.edges:
        (x1, y1), (x2, y2) = where[e.source], where[e.target]
        spoke = sub.center in (e.source, e.target)
        kind = "spoke" if spoke else ("ring" if depth[e.source] == depth[e.target] else "tree")
        what = EDGE_LABELS.get(e.type, e.type)
        count = f" ({e.weight:.0f} searches)" if e.type == "CO_MATCHED" else ""
        strength = math.log1p(e.weight) / math.log1p(heaviest)
        stroke = {"spoke": 1 + 3 * strength, "tree": 0.8 + 2 * strength, "ring": 0.5 + 1.5 * strength}[kind]
        opacity = {"spoke": 0.8, "tree": 0.25 + 0.45 * strength, "ring": 0.06 + 0.4 * strength ** 2}[kind]
        edges.append(DrawnEdge(x1=x1, y1=y1, x2=x2, y2=y2, type=e.type, color=EDGE_COLORS.get(e.type, "#888"),
                               width=round(stroke, 2), spoke=spoke, kind=kind, opacity=round(opacity, 3),
                               title=f"{names[e.source]} – {names[e.target]}: {what}{count}"))
    edges.sort(key=lambda e: ({"ring": 0, "tree": 1, "spoke": 2}[e.kind], e.opacity))  # strongest drawn last
    pad = 12.0
    left, top = min(xs) - pad, min(ys) - pad
    w, h = max(xs) - min(xs) + 2 * pad, max(ys) - min(ys) + 2 * pad
    return Drawing(width=width, height=round(width * h / w), view=(round(left, 1), round(top, 1), round(w, 1),
                                                                   round(h, 1)),
                   nodes=nodes, edges=edges, rings=[round(gap * level, 1) for level in range(1, deepest + 1)])


class ChartPoint(BaseModel):
    x: float
    y: float
    rank: int
    as_of: str
    label: str


class Chart(BaseModel):
    """A rank history as an SVG line chart on the 0-100 scale, one point per run, by as-of date."""

    width: int
    height: int
    points: list[ChartPoint]
    line: str
    grid: list[tuple[float, int]]
    ticks: list[tuple[float, str]]


def rank_chart(history: list[HistoryPoint], width: int = 560, height: int = 180) -> Chart | None:
    """Points placed by as-of date (a run's date in the data, not the wall clock); runs without one
    (written before as-of dates were kept) by their scoring time. ``None`` for an empty history."""
    if not history:
        return None
    from datetime import date

    days = [date.fromisoformat(p.as_of or p.scored_at[:10]) for p in history]
    left, right, top, bottom = 36.0, 16.0, 10.0, 28.0
    first, last = min(days), max(days)
    span = max((last - first).days, 1)
    inner_w, inner_h = width - left - right, height - top - bottom

    def x_of(day: date) -> float:
        return round(left + ((day - first).days / span if last > first else 0.5) * inner_w, 1)

    def y_of(rank: int) -> float:
        return round(top + (1 - rank / 100) * inner_h, 1)

    points = [ChartPoint(x=x_of(d), y=y_of(p.rank), rank=p.rank, as_of=d.isoformat(),
                         label=f"{d.isoformat()}: rank {p.rank}") for d, p in zip(days, history, strict=True)]
    ticks = sorted({(x_of(d), d.isoformat()) for d in (first, last)})
    return Chart(width=width, height=height, points=points, line=" ".join(f"{p.x},{p.y}" for p in points),
                 grid=[(y_of(v), v) for v in (0, 50, 100)], ticks=ticks)
