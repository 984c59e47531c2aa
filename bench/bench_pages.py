"""Answer time at scale with the answer cache off: the comparison and profile pages, and the
compare, alternatives and search routes.

Every request is computed from the store (``MATCHGRAPH_CACHE_ENTRIES=0``), through the whole
HTTP stack in-process (Starlette's test client, so no socket noise), for artifacts drawn at random
from a big scored store: one ``matchgraph synth --artifacts 100000 --searches 1000000`` run through
``matchgraph nightly``. Two baselines run in the same rounds, interleaved with the pages so drift
on a shared machine hits all alike:

* ``bare http``: ``/health``, a constant answer through the same app and middleware;
* ``bare reads``: the reads any page about the artifact needs at least (its artifact, score,
  totals and capability rows, one ``reader.tables`` call), straight on the store.

Reported: min and median (p50) per kind over ``rounds x ids`` requests.

Build the store (about 10 minutes on a busy 2-core machine)::

    matchgraph synth --artifacts 100000 --searches 1000000 --out DIR/gen --per-file 250000
    mkdir DIR/cat DIR/logs && mv DIR/gen/catalog.jsonl DIR/cat && mv DIR/gen/searches-* DIR/logs
    matchgraph nightly --catalog DIR/cat --logs DIR/logs --home DIR/home

Run: ``POLARS_MAX_THREADS=1 python -m bench.bench_pages --home DIR/home [--ids 20] [--rounds 5]``
(one polars thread per answer, as ``matchgraph serve`` runs them). After the table it prints the
steps of a cold compare, each timed on its own in one pinned version: the two sides, their
alternatives, the head-to-head, the capability comparison, the verdict and the JSON.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
from fastapi.testclient import TestClient

from api.app import create_app
from api.application import MatchGraph
from bench.common import machine
from graph.settings import Settings
from graph.store import open_store
from graph.tables import Table

if TYPE_CHECKING:
    from collections.abc import Callable

    from graph.store import GraphStore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--ids", type=int, default=20, help="artifacts (and pairs) drawn per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    settings = Settings(_env_file=None, MATCHGRAPH_HOME=args.home, NEO4J_URI=None,
                        MATCHGRAPH_CACHE_ENTRIES=0, MATCHGRAPH_VERSION_CHECK_S=0)
    store = open_store(settings)
    scores = store.table(Table.SCORES, columns=["id", "rank", "evidence_share"])
    types = store.table(Table.ARTIFACTS, columns=["id", "type", "catalogued"]).filter(pl.col("catalogued"))
    ranked = scores.join(types, on="id").filter(pl.col("evidence_share") >= 0.5).sort("id")
    print(f"{machine()}; {store.table(Table.ARTIFACTS, columns=['id']).height:,} artifacts, "
          f"{ranked.height:,} ranked; cache off")
    rng = random.Random(args.seed)
    ids = ranked.get_column("id").to_list()
    by_type = {t: g.get_column("id").to_list() for (t,), g in ranked.group_by(["type"])}
    names = dict(store.table(Table.ARTIFACTS, ids, columns=["id", "name"]).iter_rows())
    kinds = ("bare http", "bare reads", "profile page", "compare page", "compare api", "alternatives api",
             "search api")
    timings: dict[str, list[float]] = {k: [] for k in kinds}
    pairs_seen: list[tuple[str, str]] = []
    with TestClient(create_app(settings)) as client:
        client.get("/health")
        client.get(f"/a/{ids[0]}")  # imports, templates and the first snapshot load are not what is measured
        client.get("/v1/search", params={"q": "warm"})  # the search index is built once per graph version
        for _ in range(args.rounds):
            for _ in range(args.ids):
                one = rng.choice(ids)
                kind = ranked.filter(pl.col("id") == one).get_column("type")[0]
                other = rng.choice([x for x in rng.sample(by_type[kind], min(50, len(by_type[kind]))) if x != one])
                pairs_seen.append((one, other))
                work: dict[str, Callable[[], object]] = {
                    "bare http": partial(client.get, "/health"),
                    "bare reads": partial(_bare_reads, store, one),
                    "profile page": partial(client.get, f"/a/{one}"),
                    "compare page": partial(client.get, f"/compare/{one}-vs-{other}"),
                    "compare api": partial(client.get, f"/v1/compare/{one}/{other}"),
                    "alternatives api": partial(client.get, f"/v1/artifacts/{one}/alternatives", params={"limit": 10}),
                    "search api": partial(client.get, "/v1/search", params={"q": names.get(one) or one}),
                }
                order = list(work)
                rng.shuffle(order)
                for name in order:
                    started = time.perf_counter()
                    answer = work[name]()
                    timings[name].append(time.perf_counter() - started)
                    status = getattr(answer, "status_code", 200)
                    if status != 200:
                        raise SystemExit(f"{name} answered {status}")
    _report(timings)
    _report(compare_steps(MatchGraph(settings, store, row_index=True), pairs_seen))
    store.close()


def _report(timings: dict[str, list[float]]) -> None:
    print(f"{'':24} {'n':>5} {'min ms':>9} {'p50 ms':>9}")
    for name, values in timings.items():
        print(f"{name:24} {len(values):5d} {min(values) * 1e3:9.2f} {statistics.median(values) * 1e3:9.2f}")


def compare_steps(mg: MatchGraph, pairs: list[tuple[str, str]]) -> dict[str, list[float]]:
    """The steps of ``QueryEngine.compare`` timed one by one, each pair in a fresh engine (so no
    step finds another's reads), in the order compare takes them."""
    from queries import boards
    from queries import verdict as rules
    from queries.trust import head_to_head

    mg.read(lambda q: q.compare(*pairs[0]))  # the version's row index is built once, not measured
    steps: dict[str, list[float]] = {k: [] for k in ("show both", "alternatives of both", "head to head",
                                                     "capability comparison", "verdict", "JSON", "whole compare")}
    for a, b in pairs:
        with mg.query() as q:
            t0 = time.perf_counter()
            left, right = q.show(a), q.show(b)
            t1 = time.perf_counter()
            for side in (left, right):
                q.alternatives(side.id, limit=5, exclude=(left.id, right.id))
            t2 = time.perf_counter()
            head_to_head(q.reader, left, right, q.around(left.id, Table.CO_MATCHED)[Table.CO_MATCHED])
            t3 = time.perf_counter()
            boards.compare_capabilities(q, left, right)
            t4 = time.perf_counter()
            rules.verdict(left, right), rules.headline(left, right), rules.leads(left, right)
            t5 = time.perf_counter()
        with mg.query() as q:
            t6 = time.perf_counter()
            whole = q.compare(a, b)
            t7 = time.perf_counter()
            whole.model_dump_json()
            t8 = time.perf_counter()
        for name, took in zip(steps, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t8 - t7, t7 - t6), strict=True):
            steps[name].append(took)
    return steps


def _bare_reads(store: GraphStore, artifact: str) -> int:
    with store.reader() as reader:
        frames = reader.tables((Table.ARTIFACTS, Table.SCORES, Table.TOTALS, Table.HAS_CAPABILITY), [artifact])
    return sum(f.height for f in frames.values())


if __name__ == "__main__":
    main()
