"""A neighborhood drawn as plain SVG on the server: positions by NetworkX, no script, no CDN."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import networkx as nx
from pydantic import BaseModel

if TYPE_CHECKING:
    from queries.models import Subgraph

EDGE_COLORS = {"CO_MATCHED": "#4f7cac", "DERIVED_FROM": "#b5651d", "INTEGRATES_WITH": "#5a9e6f"}


class DrawnNode(BaseModel):
    id: str
    name: str
    x: float
    y: float
    r: float
    center: bool
    rank: int | None


class DrawnEdge(BaseModel):
    x1: float
    y1: float
    x2: float
    y2: float
    type: str
    color: str
    width: float


class Drawing(BaseModel):
    width: int
    height: int
    nodes: list[DrawnNode]
    edges: list[DrawnEdge]


def draw(sub: Subgraph, width: int = 720, height: int = 480, margin: int = 60) -> Drawing:
    """Lay the subgraph out (seeded, so the same graph always looks the same) and scale it to the box.

    Node size follows rank; edge width follows the log of its weight relative to the heaviest.
    """
    graph: nx.Graph = nx.Graph()
    graph.add_nodes_from(n.id for n in sub.nodes)
    graph.add_edges_from((e.source, e.target, {"weight": e.weight}) for e in sub.edges)
    if graph.number_of_nodes() == 1:
        pos = {sub.center: (0.0, 0.0)}
    else:
        pos = nx.spring_layout(graph, seed=7, weight=None, center=(0.0, 0.0))
        pos[sub.center] = (0.0, 0.0)
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    span_x = max(max(xs) - min(xs), 1e-9)
    span_y = max(max(ys) - min(ys), 1e-9)

    def place(node: str) -> tuple[float, float]:
        x, y = pos[node]
        return (round(margin + (x - min(xs)) / span_x * (width - 2 * margin), 1) if len(pos) > 1 else width / 2,
                round(margin + (y - min(ys)) / span_y * (height - 2 * margin), 1) if len(pos) > 1 else height / 2)

    heaviest = max((e.weight for e in sub.edges), default=1.0) or 1.0
    edges = []
    for e in sub.edges:
        (x1, y1), (x2, y2) = place(e.source), place(e.target)
        edges.append(DrawnEdge(x1=x1, y1=y1, x2=x2, y2=y2, type=e.type, color=EDGE_COLORS.get(e.type, "#888"),
                               width=round(1 + 4 * math.log1p(e.weight) / math.log1p(heaviest), 2)))
    nodes = []
    for n in sub.nodes:
        x, y = place(n.id)
        nodes.append(DrawnNode(id=n.id, name=n.name, x=x, y=y, center=n.id == sub.center, rank=n.rank,
                               r=round(8 + (n.rank or 0) / 100 * 12, 1)))
    return Drawing(width=width, height=height, nodes=nodes, edges=edges)
