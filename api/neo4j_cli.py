"""``matchgraph neo4j start|status|stop|import``: a local Neo4j server for development, CI and the demo.

Errors are raised as ``graph.errors`` types; the top-level CLI maps them to messages and exit codes.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated

import typer
from pydantic import SecretStr

from api.guide import DEFAULT_SERVER, GUIDE_PATH, STYLE_PATH
from graph.errors import InvalidInput, StoreUnavailable
from graph.settings import Settings
from ops import neo4j_local as server

neo4j_app = typer.Typer(
    help="Run a local Neo4j 5.26 Community server (no Docker): jars from Maven, data under the home.",
    no_args_is_help=True,
)

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", help="matchgraph home (default: MATCHGRAPH_HOME or ./.matchgraph)."),
]


def _settings() -> Settings:
    from graph.settings import Settings  # loaded only by a command that runs, not by --help

    return Settings()


def _home(home: Path | None) -> Path:
    return home if home is not None else _settings().home


def _tour(guide_server: str) -> server.BrowserTour | None:
    base = guide_server.strip().rstrip("/")
    return server.BrowserTour(guide_url=base + GUIDE_PATH, style_url=base + STYLE_PATH) if base else None


def _describe(info: server.ServerInfo, tour: server.BrowserTour | None = None) -> None:
    typer.echo(f"bolt     {info.bolt_uri}  (user {info.user})")
    typer.echo(f"browser  {info.browser_url}")
    if tour is not None:
        typer.echo(f"guide    :guide {tour.guide_url}  (opens on connecting while `matchgraph serve` runs)")
        if info.http_url not in _settings().browser_origins:
            typer.echo(f"         serve it with MATCHGRAPH_BROWSER_ORIGINS='[\"{info.http_url}\"]' "
                       "so this Browser may fetch it")
    typer.echo(f"pid      {info.pid}")
    typer.echo(f"password in {server.password_file(info.home)}")
    typer.echo(f"env      source {info.env_file}  (exports NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD)")


@neo4j_app.command()
def start(
    bolt_port: Annotated[int, typer.Option(help="Bolt port on 127.0.0.1.")] = server.DEFAULT_BOLT_PORT,
    http_port: Annotated[int, typer.Option(help="HTTP/Browser port on 127.0.0.1.")] = server.DEFAULT_HTTP_PORT,
    home: HomeOption = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for Bolt to answer.")] = 120.0,
    guide_server: Annotated[str, typer.Option(
        help="The `matchgraph serve` address whose guide and style the Browser opens on connecting "
             "('' for none).")] = DEFAULT_SERVER,
) -> None:
    """Start the server (first run fetches the jars with Maven and sets a generated password)."""
    h = _home(home)
    tour = _tour(guide_server)
    already = server.status(h)
    began = time.monotonic()
    info = server.start(h, bolt_port=bolt_port, http_port=http_port, timeout_s=timeout, tour=tour)
    if already is not None:
        typer.echo(f"Neo4j is already running for {info.home}")
    else:
        typer.echo(f"Neo4j {server.NEO4J_VERSION} started in {time.monotonic() - began:.1f} s for {info.home}")
    _describe(info, tour if already is None else None)


@neo4j_app.command()
def status(home: HomeOption = None) -> None:
    """Report the running server; exits non-zero when none answers."""
    h = _home(home)
    info = server.status(h)
    if info is None:
        raise StoreUnavailable(f"no local Neo4j answers for {h.expanduser().resolve()}", hint="matchgraph neo4j start")
    typer.echo(f"Neo4j is running for {info.home}")
    _describe(info)


@neo4j_app.command()
def stop(
    home: HomeOption = None,
    timeout: Annotated[float, typer.Option(help="Seconds before SIGTERM becomes SIGKILL.")] = 60.0,
) -> None:
    """Stop the server (data and password are kept for the next start)."""
    h = _home(home)
    if server.stop(h, timeout_s=timeout):
        typer.echo(f"Neo4j stopped for {h.expanduser().resolve()}")
    else:
        typer.echo(f"Neo4j was not running for {h.expanduser().resolve()}")


@neo4j_app.command("import")
def import_(
    source: Annotated[Path | None, typer.Option(
        "--from", help="Home of the embedded store to import (default: MATCHGRAPH_HOME or ./.matchgraph).")] = None,
    home: HomeOption = None,
    bolt_port: Annotated[int, typer.Option(help="Bolt port, when the server is not running yet.")] = (
        server.DEFAULT_BOLT_PORT),
    http_port: Annotated[int, typer.Option(help="HTTP port, when the server is not running yet.")] = (
        server.DEFAULT_HTTP_PORT),
    timeout: Annotated[float, typer.Option(help="Seconds to wait for Bolt to answer after each start.")] = 300.0,
) -> None:
    """Build the local server's database from the embedded store with neo4j-admin import (fast,
    offline): only into an empty database; the server is stopped for the import and started again."""
    from graph.embedded import EmbeddedStore
    from graph.neo4j_import import run_admin_import, write_import_files
    from graph.neo4j_store import Neo4jStore

    h = _home(home)
    embedded = EmbeddedStore(source if source is not None else Settings().home)
    began = time.monotonic()
    info = server.status(h) or server.start(h, bolt_port=bolt_port, http_port=http_port, timeout_s=timeout)
    settings = _server_settings(info)
    store = Neo4jStore.connect(settings, migrate=False)  # the import replaces its schema with the data
    try:
        if store.holds_data():
            raise InvalidInput(f"the Neo4j database of {info.home} is not empty",
                               hint="import builds a fresh database; clear it first (or use another --home)")
    finally:
        store.close()
    bolt, http = _port(info.bolt_uri), _port(info.http_url)
    root = server.password_file(h).parent  # <home>/neo4j: the server's conf, data and import folders
    with embedded.reader() as snapshot, tempfile.TemporaryDirectory(prefix="matchgraph-", dir=root / "import") as tmp:
        if not snapshot.version:
            raise InvalidInput(f"the embedded store at {embedded.root} holds no graph to import")
        writing = time.monotonic()
        # the server stops (a checkpoint and the JVM's exit) while the files are written
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="matchgraph-stop") as pool:
            stopped = pool.submit(server.stop, h)
            try:
                files = write_import_files(snapshot, Path(tmp))
            except BaseException:  # nothing was replaced: the server comes back with its database
                stopped.result()
                server.start(h, bolt_port=bolt, http_port=http, timeout_s=timeout)
                raise
            count = len(files.nodes) + len(files.relationships)
            typer.echo(f"checked the server in {writing - began:.1f} s; wrote {sum(files.rows.values()):,} rows "
                       f"into {count} files in {time.monotonic() - writing:.1f} s")
            stopped.result()
        imported = time.monotonic()
        try:
            counts = run_admin_import(files.command(server._java(), server.ensure_jars() / "lib"), root, root / "conf")
        except StoreUnavailable:
            # the importer deleted the empty database first and left broken store files: remove
            # them so the server starts with an empty database again
            for folder in ("databases", "transactions"):
                shutil.rmtree(root / "data" / folder / settings.neo4j_database, ignore_errors=True)
            server.start(h, bolt_port=bolt, http_port=http, timeout_s=timeout)
            raise
        typer.echo(f"neo4j-admin imported {counts.get('nodes', 0):,} nodes and {counts.get('relationships', 0):,} "
                   f"relationships in {time.monotonic() - imported:.1f} s")
    starting = time.monotonic()
    info = server.start(h, bolt_port=bolt, http_port=http, timeout_s=timeout)
    migrating = time.monotonic()
    store = Neo4jStore.connect(_server_settings(info))  # runs the migrations: constraints and indexes
    completing = time.monotonic()
    try:
        store.complete_import(files.capabilities, files.score_columns, files.benchmarks)
    finally:
        store.close()
    done = time.monotonic()
    typer.echo(f"server started in {migrating - starting:.1f} s, constraints and indexes built in "
               f"{completing - migrating:.1f} s, import completed in {done - completing:.1f} s")
    typer.echo(f"imported {embedded.root} into Neo4j {info.bolt_uri} in {done - began:.1f} s")


def _server_settings(info: server.ServerInfo) -> Settings:
    """The settings of the environment, pointed at this server."""
    return Settings().model_copy(update={"neo4j_uri": info.bolt_uri, "neo4j_user": info.user,
                                         "neo4j_password": SecretStr(info.password)})


def _port(url: str) -> int:
    port = url.rsplit(":", 1)[1].split("/", 1)[0]
    if not port.isdigit():
        raise InvalidInput(f"no port in {url!r}")
    return int(port)
