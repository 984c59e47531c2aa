"""Walking the artifact graph: neighbourhoods and shortest paths, over indexed reads only.

Both walk the undirected artifact-artifact edges (co-matches weighted by their count; lineage and
integration weighted 1), reading the edges of one frontier at a time through the store's
by-artifact lookups, so a walk costs what it visits and never scans a table. Ties are broken by id
everywhere, so the same graph gives the same answer on every store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from graph.tables import Table

if TYPE_CHECKING:
    from collections.abc import Iterable

    from graph.store import Reader

EDGE_TABLES = (Table.CO_MATCHED, Table.DERIVED_FROM, Table.INTEGRATES_WITH)
EDGE_SCHEMA = {"src": pl.String, "dst": pl.String, "type": pl.String, "weight": pl.Float64}
EDGE_ORDER = {"CO_MATCHED": 0, "DERIVED_FROM": 1, "INTEGRATES_WITH": 2}
"""Which edge names a pair when two kinds join it: the co-match (it carries evidence), then lineage."""


def edges_of(reader: Reader, ids: Iterable[str]) -> pl.DataFrame:
    """Every artifact-artifact edge touching ``ids``, as stored (``src``, ``dst``, ``type``, ``weight``),
    each once, in no particular order (callers order what they pick)."""
    wanted = sorted(set(ids))
    if not wanted:
        return pl.DataFrame(schema=EDGE_SCHEMA)
    frames = reader.tables(EDGE_TABLES, wanted)
    co = frames[Table.CO_MATCHED].select(pl.col("a").alias("src"), pl.col("b").alias("dst"),
                                        pl.lit("CO_MATCHED").alias("type"),
                                        pl.col("count").cast(pl.Float64).alias("weight"))
    links = [frames[t].select("src", "dst", pl.lit(t.name).alias("type"), pl.lit(1.0).alias("weight"))
             for t in (Table.DERIVED_FROM, Table.INTEGRATES_WITH)]
    return pl.concat([co, *links])


def _oriented(edges: pl.DataFrame, frontier: set[str]) -> pl.DataFrame:
    """The edges leaving ``frontier``, each as (``src`` in the frontier, ``dst``, type, weight)."""
    inside = pl.Series(sorted(frontier), dtype=pl.String).implode()
    forward = edges.filter(pl.col("src").is_in(inside))
    backward = edges.filter(pl.col("dst").is_in(inside)).select(
        pl.col("dst").alias("src"), pl.col("src").alias("dst"), "type", "weight")
    return pl.concat([forward, backward])


def _pair_edges(edges: pl.DataFrame, nodes: set[str]) -> pl.DataFrame:
    """One edge per unordered pair of ``nodes`` (the strongest kind), endpoints in id order."""
    inside = pl.Series(sorted(nodes), dtype=pl.String).implode()
    between = edges.filter(pl.col("src").is_in(inside) & pl.col("dst").is_in(inside) & (pl.col("src") != pl.col("dst")))
    ordered = between.select(
        pl.min_horizontal("src", "dst").alias("source"), pl.max_horizontal("src", "dst").alias("target"), "type",
        "weight", pl.col("type").replace_strict(EDGE_ORDER, return_dtype=pl.Int64).alias("_kind"),
    )
    return (ordered.sort("source", "target", "_kind", pl.col("weight"), descending=[False, False, False, True])
            .unique(["source", "target"], keep="first", maintain_order=True).drop("_kind"))


def neighbourhood(reader: Reader, center: str, depth: int, limit: int) -> tuple[dict[str, int], pl.DataFrame]:
    """The artifacts within ``depth`` hops of ``center`` (at most ``limit`` with it), and every edge
    among them.

    Returns each chosen node's depth and the edges (``source``, ``target``, ``type``, ``weight``).
    The node budget is shared among the levels, so a deeper view shows more of the second and third
    rings instead of the same star: with ``r`` nodes left and ``k`` levels to go, a level takes at
    most ``r // k``, the last level all that is left. Within a level the strongest links to the
    level before come first (by weight, then id). A node's depth is its true distance: a neighbour
    of the centre left out for lack of room is not shown again one ring further out.
    """
    chosen = {center: 0}
    known = {center}  # every node met so far, shown or not: a node's depth is its true distance
    frontier = {center}
    seen_edges = [edges_of(reader, frontier)]
    for level in range(1, depth + 1):
        left = limit - len(chosen)
        if not frontier or left <= 0:
            break
        budget = left if level == depth else left // (depth - level + 1)
        reached = (
            _oriented(seen_edges[-1], frontier)
            .filter(~pl.col("dst").is_in(pl.Series(sorted(known), dtype=pl.String).implode()))
            .group_by("dst").agg(pl.col("weight").max())
            .sort(["weight", "dst"], descending=[True, False])
        )
        known.update(reached.get_column("dst").to_list())
        frontier = set(reached.head(max(budget, 1 if level == 1 else 0)).get_column("dst").to_list())
        chosen.update(dict.fromkeys(sorted(frontier), level))
        if frontier:
            seen_edges.append(edges_of(reader, frontier))
    edges = pl.concat(seen_edges)
    return chosen, _pair_edges(edges, set(chosen))


def shortest_path(reader: Reader, a: str, b: str, max_depth: int) -> list[str]:
    """The fewest-hop chain of ids from ``a`` to ``b`` (at most ``max_depth`` hops), or ``[]``.

    A bidirectional breadth-first search that always grows the smaller side by one whole level;
    when the sides meet, every shortest path lies in the edges read so far, and the answer is the
    first of them in id order, so it does not depend on the order a store returns rows in.
    """
    if a == b:
        return [a]
    import networkx as nx  # only a path question needs it

    graph: nx.Graph = nx.Graph()
    graph.add_nodes_from((a, b))
    seen = {a: {a}, b: {b}}
    fronts = {a: {a}, b: {b}}
    hops = 0
    while hops < max_depth and fronts[a] and fronts[b]:
        side = a if len(fronts[a]) <= len(fronts[b]) else b
        edges = _oriented(edges_of(reader, fronts[side]), fronts[side])
        graph.add_edges_from(edges.select("src", "dst").iter_rows())
        reached = set(edges.get_column("dst").to_list())
        fronts[side] = reached - seen[side]
        seen[side] |= reached
        hops += 1
        if seen[a] & seen[b]:
            paths = nx.all_shortest_paths(graph, a, b)
            best = min(paths)
            return list(best) if len(best) - 1 <= max_depth else []
    return []
