"""The ``matchgraph`` command line.

Every error matchgraph raises on purpose is printed as one line on stderr and mapped to its exit
code by :func:`main`; no traceback reaches a user.
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import polars as pl
import typer
from pydantic import BaseModel
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from graph.errors import InvalidInput, MatchGraphError
from graph.settings import Settings
from graph.store import GraphStore, open_store
from graph.tables import Table
from ingest import sample_files
from ingest.pipeline import FileReport, IngestReport, ingest_catalogs, ingest_logs
from queries.engine import QueryEngine
from queries.page import render_markdown
from queries.scoring import ScoringConfig, load_weights, score

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

app = typer.Typer(help="matchgraph: a match-graph database and query engine.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
ingest_app = typer.Typer(help="Ingest catalogs and search logs.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")

SAMPLES = sample_files().folder
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

HomeOpt = Annotated[
    Path | None, typer.Option("--home", help="Store folder (default $MATCHGRAPH_HOME or ./.matchgraph).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


class PageFormat(StrEnum):
    markdown = "markdown"
    json = "json"


def _settings(home: Path | None) -> Settings:
    settings = Settings()
    if home is not None:
        settings = settings.model_copy(update={"home": home})
    return settings


def _store(settings: Settings) -> GraphStore:
    return open_store(settings)


def _scoring(settings: Settings, as_of: date | None = None) -> ScoringConfig:
    return ScoringConfig(half_life_days=settings.half_life_days, as_of=as_of,
                         weights=load_weights(settings.weights_file))


def _print_json(value: BaseModel | list[Any] | dict[str, Any]) -> None:
    if isinstance(value, BaseModel):
        sys.stdout.write(value.model_dump_json(indent=2) + "\n")
    else:
        data = [v.model_dump(mode="json") if isinstance(v, BaseModel) else v for v in value] \
            if isinstance(value, list) else value
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def _report(report: IngestReport, as_json: bool) -> None:
    if as_json:
        _print_json({"kind": report.kind, "read": report.read, "ingested": report.ingested,
                     "rejected": report.rejected, "rejects": str(report.rejects_path) if report.rejects_path else None,
                     "files": [f.__dict__ for f in report.files]})
    else:
        out.print(report.summary(), highlight=False)


@contextmanager
def _file_progress(label: str) -> Iterator[Callable[[int], Callable[[FileReport], None]]]:
    """Per-file progress: a rich bar on a terminal, one plain line per file otherwise."""
    if not err.is_terminal:
        def plain(_total: int) -> Callable[[FileReport], None]:
            def line(f: FileReport) -> None:
                err.print(f"{f.status}: {f.source} (read {f.read}, ingested {f.ingested}, rejected {f.rejected})",
                          highlight=False, markup=False)
            return line
        yield plain
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True) as bar:
        def start(total: int) -> Callable[[FileReport], None]:
            task = bar.add_task(label, total=total)
            return lambda _f: bar.advance(task)
        yield start


def _run_ingest(
    ingest: Callable[..., IngestReport],
    paths: list[Path], fmt: str | None, home: Path | None, as_json: bool,
) -> None:
    settings = _settings(home)
    store = _store(settings)
    try:
        with _file_progress(f"ingesting {len(paths)} file(s)") as progress:
            report = ingest(store, paths, settings, fmt, progress(len(paths)))
        _report(report, as_json)
    finally:
        store.close()


@ingest_app.command("catalog")
def ingest_catalog_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Catalog files (native JSONL, JSON array, CSV, Parquet, "
                                                     "or a litellm / Open LLM Leaderboard / best-of-ml file).")],
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="jsonl, json, csv, parquet, litellm, open-llm-leaderboard or best-of-ml; "
                                      "detected by default."),
    ] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ingest artifact catalogs."""
    _run_ingest(ingest_catalogs, paths, fmt, home, as_json)


@ingest_app.command("logs")
def ingest_logs_cmd(
    paths: Annotated[
        list[Path], typer.Argument(help="Search-log files (native JSONL, CSV or Parquet, or OpenSearch UBI).")
    ],
    fmt: Annotated[
        str | None, typer.Option("--format", help="native-jsonl, native-csv, parquet or ubi; detected by default.")
    ] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ingest search logs."""
    _run_ingest(ingest_logs, paths, fmt, home, as_json)


@app.command("score")
def score_cmd(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Score as of this date (YYYY-MM-DD).")] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Compute every artifact's sub-scores and composite rank and store them."""
    settings = _settings(home)
    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError as e:
        raise InvalidInput(f"--as-of must be YYYY-MM-DD, got {as_of!r}") from e
    store = _store(settings)
    try:
        report = score(store, _scoring(settings, day))
    finally:
        store.close()
    if as_json:
        _print_json({"run": report.run, "artifacts": report.artifacts, "as_of": report.as_of.isoformat(),
                     "low_confidence": report.low_confidence})
    else:
        out.print(report.summary(), highlight=False)


def _engine(settings: Settings) -> QueryEngine:
    return QueryEngine(_store(settings), max_limit=settings.max_limit)


def _summary_table(rows: list[Any], title: str, extra: tuple[str, str] | None = None) -> None:
    table = RichTable(title=title)
    for col in ("id", "name", "type", "rank", "adoption", "quality", "ecosystem", "match graph", "freshness",
                "matched"):
        table.add_column(col)
    if extra:
        table.add_column(extra[0])
    for r in rows:
        s = r.scores
        cells = [r.id, r.name, r.type or "", str(r.rank), *[f"{v:.0f}" if v is not None else "-" for v in
                 (s.adoption, s.quality, s.ecosystem, s.match_graph, s.freshness)], str(r.times_matched)]
        if extra:
            cells.append(str(getattr(r, extra[1])))
        table.add_row(*cells)
    out.print(table)


@app.command("compare")
def compare_cmd(
    a: str, b: str,
    fmt: Annotated[PageFormat, typer.Option("--format", help="markdown or json.")] = PageFormat.markdown,
    home: HomeOpt = None,
) -> None:
    """Compare two artifacts: the comparison page, as markdown or JSON."""
    engine = _engine(_settings(home))
    try:
        result = engine.compare(a, b)
    finally:
        engine.store.close()
    if fmt is PageFormat.json:
        payload = {"a": result.a.model_dump(mode="json"), "b": result.b.model_dump(mode="json"),
                   "winner": result.winner, "headline": result.headline, "verdict": result.verdict,
                   "leads": result.leads, "alternatives": [x.model_dump(mode="json") for x in result.alternatives]}
        _print_json(payload)
    else:
        sys.stdout.write(render_markdown(result))


@app.command("alternatives")
def alternatives_cmd(artifact_id: str, limit: int = 5, home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Alternatives to an artifact from the match graph."""
    engine = _engine(_settings(home))
    try:
        rows = engine.alternatives(artifact_id, limit=limit)
    finally:
        engine.store.close()
    if as_json:
        _print_json(rows)
    else:
        _summary_table(rows, f"Alternatives to {artifact_id}", ("why", "reason"))


@app.command("search")
def search_cmd(text: str, limit: int = 10, home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Search artifacts by name, description, capabilities and the intents that match them."""
    settings = _settings(home)
    engine = _engine(settings)
    try:
        rows = engine.search(text, limit=limit, max_chars=settings.max_query_chars)
    finally:
        engine.store.close()
    if as_json:
        _print_json(rows)
    else:
        _summary_table(rows, f"Search: {text}", ("relevance", "relevance"))


@app.command("top")
def top_cmd(
    type_: Annotated[str | None, typer.Option("--type", help="Only this artifact type.")] = None,
    limit: int = 10, home: HomeOpt = None, as_json: JsonOpt = False,
) -> None:
    """The highest-ranked artifacts, overall or of one type."""
    engine = _engine(_settings(home))
    try:
        rows = engine.top(type_, limit=limit)
    finally:
        engine.store.close()
    if as_json:
        _print_json(rows)
    else:
        _summary_table(rows, f"Top {type_ or 'artifacts'}")


@app.command("show")
def show_cmd(
    artifact_id: str,
    explain: Annotated[
        bool, typer.Option("--explain", help="Each sub-score's value, weight, contribution, evidence.")
    ] = False,
    history: Annotated[bool, typer.Option("--history", help="The rank at every scoring run.")] = False,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One artifact: rank, sub-scores, capabilities and lineage."""
    engine = _engine(_settings(home))
    try:
        detail = engine.show(artifact_id)
        why = engine.explain(artifact_id) if explain else None
        past = engine.history(artifact_id) if history else None
    finally:
        engine.store.close()
    if as_json:
        payload: dict[str, Any] = detail.model_dump(mode="json")
        if why is not None:
            payload["explain"] = why.model_dump(mode="json")
        if past is not None:
            payload["history"] = [p.model_dump(mode="json") for p in past]
        _print_json(payload)
        return
    s = detail.scores
    out.print(f"[bold]{detail.name}[/bold] ({detail.id}) - {detail.type}, {detail.pricing}", highlight=False)
    out.print(f"rank {detail.rank}/100 | adoption {s.adoption} | quality {s.quality} | ecosystem {s.ecosystem} | "
              f"match graph {s.match_graph} | freshness {s.freshness}", highlight=False)
    out.print(f"times matched {detail.times_matched}, clicks {detail.clicks}, "
              f"{detail.capabilities_count} capabilities, quality comparisons {detail.quality.comparisons}"
              + (" (low confidence)" if detail.quality.low_confidence else ""), highlight=False)
    if detail.description:
        out.print(detail.description, highlight=False)
    for cap in detail.capabilities:
        out.print(f"  - {cap.name}", highlight=False)
    if detail.derived_from:
        out.print(f"derived from: {', '.join(detail.derived_from)}", highlight=False)
    if why is not None:
        table = RichTable(title=f"Rank {why.rank}: how it is made")
        for col in ("sub-score", "value", "used", "weight", "contribution"):
            table.add_column(col)
        for key, part in why.parts.items():
            table.add_row(key, f"{part.value:.2f}", f"{part.used:.2f}", f"{part.weight:g}", f"{part.contribution:.2f}")
        out.print(table)
        out.print(json.dumps(why.evidence, indent=1), highlight=False)
    if past is not None:
        for point in past:
            out.print(f"{point.scored_at}  run {point.run}  rank {point.rank}", highlight=False)


@app.command("nightly")
def nightly_cmd(
    catalog: Annotated[Path | None, typer.Option("--catalog", help="Folder of catalog files.")] = None,
    logs: Annotated[Path | None, typer.Option("--logs", help="Folder of search-log files.")] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Take in the new catalog and log files, rescore, and record the run."""
    from api.nightly import run_nightly

    if catalog is None and logs is None:
        raise InvalidInput("give --catalog DIR, --logs DIR or both")
    settings = _settings(home)
    store = _store(settings)
    try:
        with _file_progress("nightly") as progress:
            report = run_nightly(store, settings, catalog, logs, _scoring(settings),
                                 say=lambda line: err.print(line, highlight=False, markup=False), progress=progress)
    finally:
        store.close()
    if as_json:
        _print_json(report.row().with_columns(pl.col(pl.Datetime).dt.to_string()).to_dicts()[0])
    else:
        out.print(report.summary(), highlight=False)


@app.command("runs")
def runs_cmd(limit: int = 20, home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """The recorded nightly runs, newest first."""
    store = _store(_settings(home))
    try:
        runs = store.table(Table.RUNS).sort("started_at", descending=True).head(limit)
    finally:
        store.close()
    if as_json:
        _print_json(runs.with_columns(pl.col(pl.Datetime).dt.to_string()).to_dicts())
        return
    table = RichTable(title="Nightly runs")
    for col in ("run", "started", "seconds", "files", "skipped", "changed", "read", "ingested", "rejected",
                "rescored"):
        table.add_column(col)
    for r in runs.iter_rows(named=True):
        table.add_row(r["run"], r["started_at"].isoformat(timespec="seconds"), f"{r['duration_s']:.1f}",
                      *[str(r[k]) for k in ("files", "skipped", "changed", "read", "ingested", "rejected",
                                             "rescored")])
    out.print(table)


@app.command("synth")
def synth_cmd(
    artifacts: Annotated[int, typer.Option("--artifacts", min=10, max=1_000_000)],
    searches: Annotated[int, typer.Option("--searches", min=1, max=100_000_000)],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write catalog.jsonl and searches-*.jsonl.")],
    seed: Annotated[int, typer.Option("--seed")] = 1,
    per_file: Annotated[int, typer.Option("--per-file", min=1)] = 1_000_000,
) -> None:
    """Write a deterministic synthetic catalog and search log (the generator the samples use)."""
    from ingest.synth import write_synth

    for path in write_synth(out_dir, artifacts, searches, seed, per_file=per_file):
        out.print(str(path), highlight=False)


@app.command("demo")
def demo_cmd(
    samples: Annotated[Path, typer.Option(help="Folder with catalog.jsonl and searches.jsonl.gz.")] = SAMPLES,
    home: HomeOpt = None,
) -> None:
    """Ingest the shipped samples, score, and print the dalle-3-xl-lora-v2 vs flux-1-pro page."""
    settings = _settings(home)
    store = _store(settings)
    try:
        catalog = ingest_catalogs(store, [samples / "catalog.jsonl"], settings)
        logs = ingest_logs(store, sorted(samples.glob("searches*.jsonl*")), settings)
        report = score(store, _scoring(settings))
        for line in (catalog.summary(), logs.summary(), report.summary()):
            err.print(line, highlight=False)
        result = QueryEngine(store, max_limit=settings.max_limit).compare("dalle-3-xl-lora-v2", "flux-1-pro")
    finally:
        store.close()
    sys.stdout.write(render_markdown(result))


@app.command("serve")
def serve_cmd(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = False,
    home: HomeOpt = None,
) -> None:
    """Serve the graph query API (under /v1), the pages, /health, /ready and /metrics."""
    import uvicorn

    if home is not None:
        os.environ["MATCHGRAPH_HOME"] = str(home)  # read by every worker's Settings()
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers, log_level=log_level,
                access_log=access_log, proxy_headers=False, server_header=False)


def _mount_neo4j() -> None:
    try:
        from api.neo4j_cli import neo4j_app
    except ImportError:  # pragma: no cover - the module ships with the package
        return
    app.add_typer(neo4j_app, name="neo4j")


_mount_neo4j()


def main() -> None:
    """Entry point: run the app, turning matchgraph's errors into one line and an exit code."""
    try:
        app()
    except MatchGraphError as e:
        err.print(f"error: {e}", highlight=False, markup=False)
        raise SystemExit(e.exit_code) from None
    except Exception as e:  # the last line of defence: one line, never a traceback
        if os.environ.get("MATCHGRAPH_DEBUG"):
            raise
        err.print(f"internal error: {type(e).__name__}: {e} (set MATCHGRAPH_DEBUG=1 for the traceback)",
                  highlight=False, markup=False)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
