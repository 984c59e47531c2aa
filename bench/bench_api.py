"""HTTP API benchmark: ``/v1/compare`` against a bare FastAPI constant endpoint, same server settings.

Both apps run under uvicorn as separate processes with identical flags (one worker, httptools,
uvloop, no access log); ``wrk`` (Debian package ``wrk``) drives each with 50 connections. Rounds
alternate baseline / compare so drift on a shared machine hits both alike; the median round is
reported. Three runs of the matchgraph app:

* ``cached``: the default settings, where an answer is computed once per graph version (what a
  reader meets after the first request for a page);
* ``uncached``: ``MATCHGRAPH_CACHE_ENTRIES=0``, every request recomputed from the store, to show
  what a cold answer costs;
* the same two on Neo4j with ``--store neo4j`` (needs ``NEO4J_URI`` etc.; the database is CLEARED
  and loaded with the samples).

Run: ``python -m bench.bench_api [--store embedded|neo4j] [--seconds 10] [--rounds 3]``.

At real size, ``--home H`` (a scored store, e.g. the 100k store of ``bench.bench_pages``) skips the
samples and measures 50 concurrent cold compares (cache off, a different pair of the same type on
every request, drawn at random from the ranked artifacts) against the bare endpoint, rounds
alternating, with the server's peak RSS.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx
import polars as pl

from bench.common import machine
from graph.settings import Settings
from graph.store import open_store
from ingest import sample_files
from ingest.pipeline import ingest_catalogs, ingest_logs
from queries.scoring import ScoringConfig, score

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sample_files()
COMPARE = "/v1/compare/dalle-3-xl-lora-v2/flux-1-pro"
UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _load_samples(env: dict[str, str]) -> None:
    settings = Settings(_env_file=None, **{k: v for k, v in env.items() if k.startswith(("NEO4J_", "MATCHGRAPH_"))})  # type: ignore[arg-type]
    store = open_store(settings)
    try:
        store.clear()
        ingest_catalogs(store, [SAMPLES.catalog], settings)
        ingest_logs(store, [SAMPLES.searches], settings)
        score(store, ScoringConfig(as_of=date(2026, 2, 1)))
    finally:
        store.close()


class Server:
    """One uvicorn process; the flags are the same for every app this benchmark starts."""

    def __init__(self, target: str, env: dict[str, str], factory: bool = False) -> None:
        self.port = _free_port()
        args = [sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(self.port),
                "--workers", "1", "--http", "httptools", "--loop", "uvloop", "--no-access-log",
                "--log-level", "warning"]
        if factory:
            args.append("--factory")
        self.proc = subprocess.Popen(args, cwd=ROOT, env=env)
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"{target} did not start") from None
                time.sleep(0.1)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def peak_rss_mib(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def wrk(url: str, seconds: int, connections: int = 50, script: Path | None = None) -> dict[str, float]:
    """Requests/s and latency percentiles (ms) from one wrk run; non-2xx answers are an error."""
    extra = ["-s", str(script)] if script else []
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "60s", "--latency",
                          *extra, url],
                         capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw error answers from {url}:\n{out}")
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    for pct in ("50", "90", "99"):
        value, unit = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)\b", out).groups()  # type: ignore[union-attr]
        figures[f"p{pct}"] = float(value) * UNIT[unit]
    return figures


def rotating_pairs(server: Server, folder: Path, n: int = 40) -> Path:
    """A wrk script asking for a different comparison on every request: n top artifacts, all pairs."""
    top = httpx.get(server.url(f"/v1/top?limit={n}"), timeout=60).json()["items"]
    ids = [a["id"] for a in top]
    paths = [f"/v1/compare/{a}/{b}" for i, a in enumerate(ids) for b in ids[i + 1:]]
    script = folder / "pairs.lua"
    listed = ",\n".join(f'  "{p}"' for p in paths)
    script.write_text(f"local paths = {{\n{listed}\n}}\nlocal i = 0\n"
                      "request = function()\n  i = i + 1\n  return wrk.format('GET', paths[(i % #paths) + 1])\nend\n")
    return script


def random_pairs(home: Path, folder: Path, n: int = 2_000, seed: int = 12) -> Path:
    """A wrk script asking for a different comparison on every request: ``n`` random pairs of
    ranked artifacts of the same type from the store at ``home``."""
    import random

    from graph.embedded import EmbeddedStore
    from graph.tables import Table

    store = EmbeddedStore(home)
    scores = store.table(Table.SCORES, columns=["id", "evidence_share"]).filter(pl.col("evidence_share") >= 0.5)
    arts = store.table(Table.ARTIFACTS, columns=["id", "type", "catalogued"]).filter(pl.col("catalogued"))
    ranked = scores.join(arts, on="id").sort("id")
    by_type = {t: g.get_column("id").to_list() for (t,), g in ranked.group_by(["type"]) if g.height > 1}
    rng = random.Random(seed)
    kinds = sorted(by_type)
    weights = [len(by_type[k]) for k in kinds]
    paths = []
    for _ in range(n):
        a, b = rng.sample(by_type[rng.choices(kinds, weights)[0]], 2)
        paths.append(f"/v1/compare/{a}/{b}")
    script = folder / "random-pairs.lua"
    listed = ",\n".join(f'  "{p}"' for p in paths)
    script.write_text(f"local paths = {{\n{listed}\n}}\nlocal i = 0\n"
                      "request = function()\n  i = i + 1\n  return wrk.format('GET', paths[(i % #paths) + 1])\nend\n")
    return script


def at_size(home: Path, env: dict[str, str], seconds: int, rounds: int) -> None:
    """50 concurrent cold compares on the store at ``home``, beside the bare endpoint."""
    env = {**env, "MATCHGRAPH_HOME": str(home), "MATCHGRAPH_CACHE_ENTRIES": "0", "MATCHGRAPH_VERSION_CHECK_S": "0",
           "POLARS_MAX_THREADS": str(Settings().server_polars_threads)}  # as `matchgraph serve` sets it
    env.pop("NEO4J_URI", None)
    with tempfile.TemporaryDirectory() as tmp:
        script = random_pairs(home, Path(tmp))
        bare = Server("bench.bare_app:app", env)
        start = time.perf_counter()
        cold = Server("api.app:create_app", env, factory=True)
        first = "/v1/compare/" + script.read_text().split('"/v1/compare/')[1].split('"')[0]
        httpx.get(cold.url(first), timeout=120).raise_for_status()
        print(f"server up and first compare answered in {time.perf_counter() - start:.1f} s "
              f"(RSS {cold.peak_rss_mib():.0f} MiB)")
        try:
            runs, bases = [], []
            for _ in range(rounds):
                bases.append(wrk(bare.url("/constant"), seconds))
                runs.append(wrk(cold.url("/"), seconds, script=script))
                run, base = runs[-1], bases[-1]
                print(f"  round: cold compare {run['rps']:.0f} req/s p50 {run['p50']:.1f} ms p99 {run['p99']:.1f} ms; "
                      f"bare {base['rps']:.0f} req/s p99 {base['p99']:.1f} ms", flush=True)
            for label, got in (("cold compare, 50 connections", runs), ("bare /constant", bases)):
                rps = sorted(r["rps"] for r in got)
                p99 = sorted(r["p99"] for r in got)
                p50 = sorted(r["p50"] for r in got)
                print(f"{label:<30} req/s min {rps[0]:.0f} median {rps[len(rps) // 2]:.0f}; "
                      f"p50 median {p50[len(p50) // 2]:.1f} ms; "
                      f"p99 min {p99[0]:.1f} median {p99[len(p99) // 2]:.1f} ms")
            print(f"server peak RSS {cold.peak_rss_mib():.0f} MiB (bare app {bare.peak_rss_mib():.0f} MiB)")
        finally:
            cold.stop()
            bare.stop()


def measure(label: str, server: Server, path: str, seconds: int, rounds: int,
            baseline: Server | None = None, script: Path | None = None,
            ) -> tuple[dict[str, float], dict[str, float] | None]:
    for _ in range(3):  # warm: the first answer is computed, later ones may be cached
        httpx.get(server.url(path), timeout=60).raise_for_status()
    runs, bases = [], []
    for _ in range(rounds):
        if baseline is not None:
            bases.append(wrk(baseline.url("/constant"), seconds))
        runs.append(wrk(server.url(path), seconds, script=script))
    pick = sorted(runs, key=lambda r: r["rps"])[len(runs) // 2]
    base = sorted(bases, key=lambda r: r["rps"])[len(bases) // 2] if bases else None
    line = f"{label:<34} {pick['rps']:>9.0f} req/s  p50 {pick['p50']:6.2f} ms  p90 {pick['p90']:6.2f} ms  " \
           f"p99 {pick['p99']:6.2f} ms"
    if base is not None:
        line += f"  (baseline {base['rps']:.0f} req/s, p99 {base['p99']:.2f} ms; ratio {pick['rps'] / base['rps']:.2f})"
    print(line, flush=True)
    return pick, base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=["embedded", "neo4j"], default="embedded")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--home", type=Path, help="a scored embedded store: measure cold compares at its size")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    print(machine())
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATCHGRAPH_")}
    if args.home is not None:
        at_size(args.home, env, args.seconds, args.rounds)
        return
    with tempfile.TemporaryDirectory() as tmp:
        env["MATCHGRAPH_HOME"] = tmp
        if args.store == "embedded":
            env.pop("NEO4J_URI", None)
        elif not env.get("NEO4J_URI"):
            sys.exit("--store neo4j needs NEO4J_URI (matchgraph neo4j start && source .matchgraph/neo4j/env)")
        start = time.perf_counter()
        _load_samples(env)
        print(f"samples loaded into {args.store} in {time.perf_counter() - start:.1f} s; "
              f"wrk -t1 -c50 -d{args.seconds}s, median of {args.rounds} rounds")
        bare = Server("bench.bare_app:app", env)
        app = Server("api.app:create_app", env, factory=True)
        try:
            pick, base = measure(f"{args.store}: /v1/compare cached", app, COMPARE, args.seconds, args.rounds, bare)
            measure(f"{args.store}: /v1/artifacts/{{id}} cached", app, "/v1/artifacts/flux-1-pro",
                    args.seconds, 1)
            measure(f"{args.store}: /compare page cached", app, "/compare/dalle-3-xl-lora-v2-vs-flux-1-pro",
                    args.seconds, 1)
            print(f"server peak RSS {app.peak_rss_mib():.0f} MiB (baseline app {bare.peak_rss_mib():.0f} MiB)")
        finally:
            app.stop()
        cold = Server("api.app:create_app", {**env, "MATCHGRAPH_CACHE_ENTRIES": "0"}, factory=True)
        try:
            pairs = rotating_pairs(cold, Path(tmp))
            measure(f"{args.store}: /v1/compare uncached, 780 pairs", cold, COMPARE, args.seconds, 1, script=pairs)
        finally:
            cold.stop()
            bare.stop()
    assert base is not None
    ratio = pick["rps"] / base["rps"]
    print(f"targets: ratio {ratio:.2f} (>= 0.5), p99 {pick['p99']:.2f} ms (<= 20 ms at 50 connections)")


if __name__ == "__main__":
    main()
