"""Search relevance and latency: the capability-aware search against the substring search it
replaced, on the shipped samples, measured in the same run.

Relevance: recall@10 and nDCG@10 (binary gains) over the labelled set of ``bench.search_labels``.
Latency: every query of the set asked in turn of both searches, interleaved, over several rounds,
with the answer cache out of the way (the index is built once per version, as the engine keeps it).

Run: ``python -m bench.bench_search [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from api.application import MatchGraph
from bench.common import machine
from bench.search_labels import LABELS, relevant
from bench.substring_search import SubstringIndex
from graph.settings import Settings
from ingest import sample_files

AS_OF = date(2026, 2, 1)
K = 10


def recall(hits: list[str], wanted: set[str]) -> float:
    return len(set(hits[:K]) & wanted) / min(len(wanted), K) if wanted else 0.0


def ndcg(hits: list[str], wanted: set[str]) -> float:
    gain = sum(1.0 / math.log2(i + 2) for i, h in enumerate(hits[:K]) if h in wanted)
    best = sum(1.0 / math.log2(i + 2) for i in range(min(len(wanted), K)))
    return gain / best if best else 0.0


def samples_home(root: Path) -> MatchGraph:
    samples = sample_files()
    (root / "catalog").mkdir()
    (root / "logs").mkdir()
    shutil.copy(samples.catalog, root / "catalog")
    shutil.copy(samples.searches, root / "logs")
    settings = Settings(MATCHGRAPH_HOME=root / "home", NEO4J_URI=None)  # type: ignore[call-arg]
    mg = MatchGraph(settings)
    mg.nightly(root / "catalog", root / "logs", say=lambda _line: None, as_of=AS_OF)
    return mg


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        mg = samples_home(Path(tmp))
        labels = relevant(sample_files().catalog)
        with mg.query() as engine:
            engine.search_index()  # built once per version
            baseline = SubstringIndex(engine.reader)
            new_hits = {q: [h.id for h in engine.search(q, limit=K).items] for q in LABELS}
            old_hits = {q: baseline.search(q, K) for q in LABELS}
            times: dict[str, list[float]] = {"substring": [], "capability-aware": []}
            for _ in range(args.rounds):
                for q in LABELS:
                    start = time.perf_counter()
                    baseline.search(q, K)
                    times["substring"].append(time.perf_counter() - start)
                    start = time.perf_counter()
                    engine.search(q, limit=K)
                    times["capability-aware"].append(time.perf_counter() - start)
        pairs = sum(len(v) for v in labels.values())
        print(f"{len(LABELS)} labelled queries, {pairs} relevant (query, artifact) pairs")
        print(f"{'query':42s} {'recall old':>10s} {'recall new':>10s} {'nDCG old':>9s} {'nDCG new':>9s}")
        for q in LABELS:
            print(f"{q:42s} {recall(old_hits[q], labels[q]):10.2f} {recall(new_hits[q], labels[q]):10.2f} "
                  f"{ndcg(old_hits[q], labels[q]):9.2f} {ndcg(new_hits[q], labels[q]):9.2f}")
        for name, hits in (("substring (before)", old_hits), ("capability-aware", new_hits)):
            r = statistics.mean(recall(hits[q], labels[q]) for q in LABELS)
            n = statistics.mean(ndcg(hits[q], labels[q]) for q in LABELS)
            print(f"{name:20s} recall@10 {r:.3f}  nDCG@10 {n:.3f}")
        for name, values in times.items():
            print(f"{name:20s} latency min {min(values) * 1e3:.2f} ms  median {statistics.median(values) * 1e3:.2f} ms "
                  f"over {len(values)} queries")


if __name__ == "__main__":
    main()
