"""A local Neo4j 5.26 Community server without Docker: jars from Maven Central, one JVM per home.

Why this exists: the production store is Neo4j, and a developer or CI machine without Docker still
needs a real server for the integration suite and the demo. The server is assembled from Maven
artifacts (``ops/pom.xml``) into a per-machine jar cache and started straight from that
classpath, the way the ``neo4j`` launcher would, but with a small heap and everything bound to
127.0.0.1.

Layout under ``<home>/neo4j``: ``conf/neo4j.conf`` (rewritten on every start), ``data``, ``logs``
(``console.log`` is the JVM's stdout/stderr), ``run/neo4j.pid`` and ``run/ports.json``, ``import``,
``password`` (0600) and ``env`` (``export NEO4J_*=...`` lines, 0600, for ``source``).

The Browser it serves can open matchgraph's own guide and style when someone connects: given a
:class:`BrowserTour`, the conf allows the Browser to fetch from that host
(``browser.remote_content_hostname_whitelist``) and runs ``:style <url>`` and ``:guide <url>`` after
connecting (``browser.post_connect_cmd``); both come from a running ``matchgraph serve``.

Auth stays enabled: the first start generates a password and installs it with neo4j-admin's
``dbms set-initial-password`` (``org.neo4j.cli.AdminTool`` from the same classpath) before the system
database exists, which is the only moment Neo4j accepts an initial password.

POSIX only (signals, ``/bin/sh``, ``fcntl``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from graph.errors import InvalidInput, StoreUnavailable

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

NEO4J_VERSION = "5.26.19"
NEO4J_USER = "neo4j"
DEFAULT_BOLT_PORT = 7687
DEFAULT_HTTP_PORT = 7474
HOST = "127.0.0.1"

# Heap within 512m..1g and a 256m page cache: enough for the sample graph and a few million edges,
# small enough to share a 2-core laptop or CI runner. The conf records the same numbers the JVM gets.
HEAP_INITIAL = "512m"
HEAP_MAX = "1g"
PAGECACHE = "256m"
TX_MEMORY_MAX = "3g"

ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"
ADMIN_TOOL = "org.neo4j.cli.AdminTool"
CACHE_ENV = "MATCHGRAPH_NEO4J_CACHE"
CLASS_ARCHIVE_ENV = "MATCHGRAPH_NEO4J_CLASS_ARCHIVE"
"""``off`` starts every server without the class-data archive (see :func:`_class_archive`)."""

# What the stock launcher passes from neo4j.conf's `server.jvm.additional`, minus -XX:+AlwaysPreTouch
# (it would commit the whole heap up front, the opposite of a small footprint).
_JVM_FLAGS = (
    f"-Xms{HEAP_INITIAL}",
    f"-Xmx{HEAP_MAX}",
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dfile.encoding=UTF-8",
    "-Dlog4j2.disable.jmx=true",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
)

_MVN_TIMEOUT_S = 1800.0
_POLL_S = 0.1
_KILL_GRACE_S = 15.0


@dataclass(frozen=True)
class ServerInfo:
    """A running local server and the credentials to reach it."""

    pid: int
    bolt_uri: str
    http_url: str
    user: str
    password: str = field(repr=False)
    home: Path

    @property
    def browser_url(self) -> str:
        return f"{self.http_url}/browser/"

    @property
    def env_file(self) -> Path:
        return _Layout(self.home).env_file

    def env_lines(self) -> list[str]:
        """``export NEO4J_URI=...`` lines: what to export so the CLI and the API use this server."""
        pairs = (("NEO4J_URI", self.bolt_uri), ("NEO4J_USER", self.user), ("NEO4J_PASSWORD", self.password))
        return [f"export {name}={shlex.quote(value)}" for name, value in pairs]


@dataclass(frozen=True)
class BrowserTour:
    """What the Neo4j Browser loads from ``matchgraph serve`` when someone connects: the style
    (``:style <url>``) and the guide (``:guide <url>``).

    The URLs end up in neo4j.conf and in Browser commands, so only plain http(s) URLs without
    spaces, quotes or ``;`` (the Browser's command separator) are taken.
    """

    guide_url: str
    style_url: str

    def __post_init__(self) -> None:
        for url in (self.guide_url, self.style_url):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname or not _PLAIN_URL.fullmatch(url):
                raise InvalidInput(f"not a plain http(s) URL for the Browser to fetch: {url!r}")

    @property
    def hosts(self) -> list[str]:
        """The host names the Browser must be allowed to fetch from (it checks names, not ports)."""
        return list(dict.fromkeys(urlsplit(url).hostname or "" for url in (self.style_url, self.guide_url)))

    @property
    def post_connect(self) -> str:
        """``browser.post_connect_cmd``: Browser commands without their colon, ``;``-separated."""
        return f"style {self.style_url}; guide {self.guide_url}"


_PLAIN_URL = re.compile(r"[A-Za-z0-9._~:/?\[\]@!$&()*+,=%-]+")
"""The characters of a URL that neo4j.conf and a Browser command line carry as they are (no ``;``,
``#``, quotes, spaces or line breaks)."""
BROWSER_ALLOWLIST_DEFAULT = ("guides.neo4j.com", "localhost")
"""Neo4j's own default for ``browser.remote_content_hostname_whitelist``, kept when a host is added."""


class _Layout:
    """Every path under ``<home>/neo4j``; ``home`` is made absolute so a relative MATCHGRAPH_HOME works."""

    def __init__(self, home: Path) -> None:
        self.home = Path(home).expanduser().resolve()
        self.root = self.home / "neo4j"
        self.conf_dir = self.root / "conf"
        self.conf_file = self.conf_dir / "neo4j.conf"
        self.data = self.root / "data"
        self.logs = self.root / "logs"
        self.run = self.root / "run"
        self.import_dir = self.root / "import"
        self.password_file = self.root / "password"
        self.env_file = self.root / "env"
        self.pid_file = self.run / "neo4j.pid"
        self.ports_file = self.run / "ports.json"
        self.console_log = self.logs / "console.log"
        self.system_db = self.data / "databases" / "system"

    def make_dirs(self) -> None:
        for d in (self.conf_dir, self.data, self.logs, self.run, self.import_dir):
            d.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)


# --------------------------------------------------------------------------------------------- jars


def jar_cache_dir() -> Path:
    """The folder holding ``lib/`` and ``plugins/``: ``$MATCHGRAPH_NEO4J_CACHE`` or the user cache."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser().resolve()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return (base / "matchgraph" / f"neo4j-{NEO4J_VERSION}").resolve()


def ensure_jars() -> Path:
    """Resolve the server, browser and APOC jars once per machine; return the cache folder.

    The marker holds the pom's hash and is written last, so an interrupted resolve, or a pom that
    changed since, is redone from scratch. A file lock keeps two concurrent starts from racing.
    """
    cache = jar_cache_dir()
    marker = cache / ".complete"
    with resources.as_file(resources.files("ops").joinpath("pom.xml")) as pom:
        digest = hashlib.sha256(pom.read_bytes()).hexdigest()
        if _marker_matches(marker, digest):
            return cache
        cache.mkdir(parents=True, exist_ok=True)
        with _locked(cache / ".lock"):
            if _marker_matches(marker, digest):
                return cache
            marker.unlink(missing_ok=True)
            lib, plugins = cache / "lib", cache / "plugins"
            for d in (lib, plugins):
                shutil.rmtree(d, ignore_errors=True)
            _mvn_copy(pom, lib, profile=None)
            _mvn_copy(pom, plugins, profile="apoc")
            _drop_plugin_duplicates(lib, plugins)
            tmp = marker.with_suffix(".tmp")
            tmp.write_text(digest + "\n", encoding="utf-8")
            tmp.replace(marker)
    return cache


def _marker_matches(marker: Path, digest: str) -> bool:
    try:
        return marker.read_text(encoding="utf-8").strip() == digest
    except FileNotFoundError:
        return False


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _mvn_copy(pom: Path, out: Path, *, profile: str | None) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise StoreUnavailable(
            "Maven (mvn) is needed once to fetch the Neo4j jars",
            hint=f"install Maven, or set {CACHE_ENV} to a folder that already holds lib/ and plugins/",
        )
    cmd = [mvn, "-B", "-q", "-f", str(pom)]
    if profile:
        cmd += ["-P", profile]
    cmd += ["dependency:copy-dependencies", f"-DoutputDirectory={out}"]
    try:
        proc = subprocess.run(cmd, cwd=out.parent, capture_output=True, text=True, timeout=_MVN_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as e:
        raise StoreUnavailable(f"Maven did not finish within {_MVN_TIMEOUT_S:.0f} s") from e
    jars = list(out.glob("*.jar")) if out.is_dir() else []
    if proc.returncode != 0 or not jars:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise StoreUnavailable(f"resolving the Neo4j jars with Maven failed:\n{tail}")


_JAR_NAME = re.compile(r"^(?P<artifact>.+?)-\d[\w.\-]*\.jar$")


def _drop_plugin_duplicates(lib: Path, plugins: Path) -> None:
    """Keep only the server's copy of a library that APOC also pulls in (e.g. commons-lang3).

    The plugins go on the same classpath as the server (APOC's extension factory must be seen by
    the server's ServiceLoader), so a second, older copy would shadow or clash with the server's.
    """

    def artifact(p: Path) -> str:
        m = _JAR_NAME.match(p.name)
        return m["artifact"] if m else p.stem

    in_lib = {artifact(p) for p in lib.glob("*.jar")}
    for jar in plugins.glob("*.jar"):
        if artifact(jar) in in_lib:
            jar.unlink()


# ------------------------------------------------------------------------------------------ server


def password_file(home: Path) -> Path:
    """Where the generated password is kept (mode 0600)."""
    return _Layout(home).password_file


def start(
    home: Path,
    bolt_port: int = DEFAULT_BOLT_PORT,
    http_port: int = DEFAULT_HTTP_PORT,
    timeout_s: float = 120.0,
    tour: BrowserTour | None = None,
) -> ServerInfo:
    """Start the server for ``home`` (or report the one already running) and wait until Bolt answers.

    ``tour``: the guide and style the Browser opens on connecting (none: the Browser's defaults).
    A lock file serialises concurrent starts of one home: the second caller waits, then finds the
    first caller's server running and reports it.
    """
    _check_ports(bolt_port, http_port)
    lay = _Layout(home)
    lay.make_dirs()
    with _locked(lay.run / "start.lock"):
        pid = _running_pid(lay)
        if pid is not None:  # already running: report it, on the ports it was started with
            bolt, http = _read_ports(lay)
            return _wait_ready(lay, pid, bolt, http, _read_password(lay), timeout_s)
        return _launch_and_wait(lay, bolt_port, http_port, timeout_s, tour)


def _launch_and_wait(
    lay: _Layout, bolt_port: int, http_port: int, timeout_s: float, tour: BrowserTour | None
) -> ServerInfo:
    for port in (bolt_port, http_port):
        if _port_in_use(port):
            raise StoreUnavailable(
                f"port {port} on {HOST} is already in use", hint="pick others with --bolt-port/--http-port"
            )
    cache = ensure_jars()
    java = _java()
    _write_conf(lay, cache / "plugins", bolt_port, http_port, tour)
    password = _ensure_password(lay, java, cache / "lib")

    archive = _class_archive(java, cache)
    flags, recording = _archive_flags(archive)
    try:
        pid = _launch(lay, java, cache, flags)
    except BaseException:
        if recording and archive is not None:
            _drop_recording(archive)
        raise
    if recording and archive is not None:
        archive.claim.write_text(f"{pid}\n", encoding="utf-8")
    _write_private(lay.pid_file, f"{pid}\n")
    _write_private(lay.ports_file, json.dumps({"bolt": bolt_port, "http": http_port}) + "\n")
    try:
        info = _wait_ready(lay, pid, bolt_port, http_port, password, timeout_s)
    except BaseException:  # includes Ctrl-C: never leave a half-started JVM behind
        _settle_archive(pid, _terminate(pid, _KILL_GRACE_S))
        _clear_run_files(lay)
        raise
    _write_private(lay.env_file, "\n".join(info.env_lines()) + "\n")
    return info


def status(home: Path) -> ServerInfo | None:
    """The running server for ``home`` if its process is alive and Bolt accepts the stored credentials."""
    lay = _Layout(home)
    pid = _running_pid(lay)
    if pid is None:
        return None
    try:
        bolt, http = _read_ports(lay)
        password = _read_password(lay)
    except StoreUnavailable:
        return None
    info = _info(lay, pid, bolt, http, password)
    return info if _bolt_answers(info) is True else None


def stop(home: Path, timeout_s: float = 60.0) -> bool:
    """Stop the server for ``home``: SIGTERM, SIGKILL after ``timeout_s``. False if none was running."""
    lay = _Layout(home)
    pid = _running_pid(lay)
    if pid is not None:
        _settle_archive(pid, _terminate(pid, timeout_s))
    _clear_run_files(lay)
    return pid is not None


# --------------------------------------------------------------------------------------- internals


def _check_ports(*ports: int) -> None:
    for port in ports:
        if not 1 <= port <= 65535:
            raise InvalidInput(f"port {port} is outside 1..65535")
    if len(set(ports)) != len(ports):
        raise InvalidInput("the Bolt and HTTP ports must differ")


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return True
    return False


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise StoreUnavailable("no Java runtime found", hint="install Java 17 or set JAVA_HOME")
    return java


def _classpath(*dirs: Path) -> str:
    return os.pathsep.join(f"{d}/*" for d in dirs)


def _write_conf(lay: _Layout, plugins: Path, bolt_port: int, http_port: int, tour: BrowserTour | None) -> None:
    settings: dict[str, object] = {
        "server.directories.data": lay.data,
        "server.directories.logs": lay.logs,
        "server.directories.run": lay.run,
        "server.directories.import": lay.import_dir,
        "server.directories.plugins": plugins,
        "server.default_listen_address": HOST,
        "server.default_advertised_address": HOST,
        "server.bolt.enabled": "true",
        "server.bolt.listen_address": f"{HOST}:{bolt_port}",
        "server.bolt.advertised_address": f"{HOST}:{bolt_port}",
        "server.http.enabled": "true",
        "server.http.listen_address": f"{HOST}:{http_port}",
        "server.http.advertised_address": f"{HOST}:{http_port}",
        "server.https.enabled": "false",
        "server.memory.heap.initial_size": HEAP_INITIAL,
        "server.memory.heap.max_size": HEAP_MAX,
        "server.memory.pagecache.size": PAGECACHE,
        # Transaction state off the 1 GB heap: a nightly write of 20k searches' aggregates or a
        # rescore of 100k artifacts needs more than the default limit of 70% of the heap.
        "db.tx_state.memory_allocation": "OFF_HEAP",
        "dbms.memory.transaction.total.max": TX_MEMORY_MAX,
        "dbms.security.auth_enabled": "true",
        "dbms.security.procedures.unrestricted": "apoc.*",
        "dbms.security.procedures.allowlist": "apoc.*",
        "dbms.usage_report.enabled": "false",
        # Netty's graceful shutdown otherwise idles 2 x 5 s after the databases have already stopped.
        "internal.dbms.bolt.netty_server_shutdown_quiet_period": "0",
        "internal.server.bolt.thread_pool_shutdown_wait_time": "1s",
    }
    if tour is not None:
        allowed = dict.fromkeys([*BROWSER_ALLOWLIST_DEFAULT, *tour.hosts])
        settings["browser.remote_content_hostname_whitelist"] = ",".join(allowed)
        settings["browser.post_connect_cmd"] = tour.post_connect
    head = (
        "# Written by matchgraph (ops/neo4j_local.py) on every `matchgraph neo4j start`; edits are lost.\n"
        "# The heap is passed to the JVM as -Xms/-Xmx with the same values (no neo4j launcher here).\n"
    )
    body = "".join(f"{k}={v}\n" for k, v in settings.items())
    tmp = lay.conf_file.with_suffix(".tmp")
    tmp.write_text(head + body, encoding="utf-8")
    tmp.replace(lay.conf_file)


def _ensure_password(lay: _Layout, java: str, lib: Path) -> str:
    """The stored password; installed as the initial password while the system database is absent."""
    if lay.password_file.exists():
        password = _read_password(lay)
    elif lay.system_db.exists():
        raise StoreUnavailable(
            f"{lay.data} already holds a database but {lay.password_file} is missing",
            hint=f"write the neo4j password into {lay.password_file}, or delete {lay.data} to start empty",
        )
    else:
        password = secrets.token_hex(16)  # hex: never starts with '-', needs no quoting anywhere
        _write_private(lay.password_file, password + "\n")
    if not lay.system_db.exists():
        _set_initial_password(lay, java, lib, password)
    return password


def _set_initial_password(lay: _Layout, java: str, lib: Path, password: str) -> None:
    env = {**os.environ, "NEO4J_HOME": str(lay.root), "NEO4J_CONF": str(lay.conf_dir)}
    cmd = [java, "-Xmx256m", "-cp", _classpath(lib), ADMIN_TOOL, "dbms", "set-initial-password", password]
    try:
        proc = subprocess.run(cmd, cwd=lay.root, env=env, capture_output=True, text=True, timeout=120, check=False)
    except subprocess.TimeoutExpired as e:
        raise StoreUnavailable("neo4j-admin dbms set-initial-password did not finish in 120 s") from e
    if proc.returncode != 0:
        lines = (proc.stdout + proc.stderr).replace(password, "***").splitlines()
        out = "\n".join(ln for ln in lines if ln.strip() and not ln.lstrip().startswith(("at ", "...")))
        raise StoreUnavailable(f"neo4j-admin dbms set-initial-password failed:\n{out}")


def _read_password(lay: _Layout) -> str:
    try:
        return lay.password_file.read_text(encoding="utf-8").strip()
    except FileNotFoundError as e:
        raise StoreUnavailable(f"{lay.password_file} is missing") from e


def _read_ports(lay: _Layout) -> tuple[int, int]:
    try:
        ports = json.loads(lay.ports_file.read_text(encoding="utf-8"))
        return int(ports["bolt"]), int(ports["http"])
    except (FileNotFoundError, ValueError, KeyError, TypeError) as e:
        raise StoreUnavailable(f"{lay.ports_file} is missing or unreadable") from e


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` with mode 0600 from the first byte (the password must never be world-readable)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    tmp.replace(path)


def _launch(lay: _Layout, java: str, cache: Path, flags: Sequence[str] = ()) -> int:
    """Start the JVM detached (new session, reparented to init) and return its pid.

    ``/bin/sh`` backgrounds the JVM and exits at once, so the JVM is never this process's child:
    no zombie when it exits, and no Popen left running when this interpreter ends.
    """
    if lay.console_log.exists():
        lay.console_log.replace(lay.console_log.with_name("console.log.1"))
    # Plugins go on the classpath too: APOC registers an ExtensionFactory the server only finds there.
    cmd = [
        java,
        *_JVM_FLAGS,
        *flags,
        "-cp",
        _classpath(cache / "lib", cache / "plugins"),
        ENTRY_POINT,
        f"--home-dir={lay.root}",
        f"--config-dir={lay.conf_dir}",
        "--console-mode",
    ]
    script = 'log=$1; shift; "$@" >"$log" 2>&1 </dev/null & echo $!'
    env = {k: v for k, v in os.environ.items() if k not in ("NEO4J_HOME", "NEO4J_CONF")}
    try:
        proc = subprocess.run(
            ["/bin/sh", "-c", script, "sh", str(lay.console_log), *cmd],
            cwd=lay.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
            start_new_session=True,
        )
        return int(proc.stdout.strip())
    except (subprocess.SubprocessError, ValueError) as e:
        raise StoreUnavailable(f"could not launch {java}") from e


def _wait_ready(lay: _Layout, pid: int, bolt: int, http: int, password: str, timeout_s: float) -> ServerInfo:
    info = _info(lay, pid, bolt, http, password)
    deadline = time.monotonic() + timeout_s
    while True:
        if not _is_our_server(pid, lay):
            raise StoreUnavailable(
                f"Neo4j exited during start-up; {lay.console_log} ends with:\n{_log_excerpt(lay.console_log)}"
            )
        answer = _bolt_answers(info)
        if answer is True:
            return info
        if answer is False:
            raise StoreUnavailable(
                f"Neo4j is up on {info.bolt_uri} but rejects the password stored in {lay.password_file}",
                hint=f"fix that file, or stop the server and delete {lay.data} to start empty",
            )
        if time.monotonic() >= deadline:
            raise StoreUnavailable(
                f"Neo4j did not answer on {info.bolt_uri} within {timeout_s:.0f} s; "
                f"{lay.console_log} ends with:\n{_log_excerpt(lay.console_log)}"
            )
        time.sleep(_POLL_S)


def _info(lay: _Layout, pid: int, bolt: int, http: int, password: str) -> ServerInfo:
    return ServerInfo(
        pid=pid,
        bolt_uri=f"bolt://{HOST}:{bolt}",
        http_url=f"http://{HOST}:{http}",
        user=NEO4J_USER,
        password=password,
        home=lay.home,
    )


def _bolt_answers(info: ServerInfo) -> bool | None:
    """True: Bolt accepts the credentials; False: it rejects them; None: not reachable (yet)."""
    # Only graph.neo4j_store touches the driver; importing it here keeps server start-up light.
    from graph.neo4j_store import bolt_answers

    return bolt_answers(info.bolt_uri, info.user, info.password)


def _running_pid(lay: _Layout) -> int | None:
    """The pid from the pid file if that process is alive and is this home's Neo4j (not a reused pid)."""
    try:
        pid = int(lay.pid_file.read_text(encoding="utf-8").strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if _is_our_server(pid, lay) else None


def _is_our_server(pid: int, lay: _Layout) -> bool:
    cmdline = _cmdline(pid)
    return cmdline is not None and ENTRY_POINT in cmdline and f"--home-dir={lay.root}" in cmdline


def _cmdline(pid: int) -> str | None:
    """The command line of a live, non-zombie process, or None."""
    proc = Path(f"/proc/{pid}/cmdline")
    if Path("/proc/self").exists():
        try:
            raw = proc.read_bytes()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            return None
        return raw.replace(b"\0", b" ").decode(errors="replace") or None  # zombies have an empty one
    try:  # macOS and other systems without procfs
        out = subprocess.run(
            ["ps", "-p", str(pid), "-o", "stat=", "-o", "command="],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        return None
    return out if out and not out.startswith("Z") else None


def _exited(pid: int) -> bool:
    """No thread of the process runs any more: it is gone, or a zombie whose threads have all ended.

    A zombie leader is not enough: when a JVM's main thread ends, the leader shows as a zombie while
    other threads still run (writing the class archive, closing the listening sockets), and a
    server started on the same ports at that moment finds them taken."""
    if not Path("/proc/self").exists():
        return _cmdline(pid) is None
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except (FileNotFoundError, ProcessLookupError):
        return True
    for task in tasks:
        try:
            state = (task / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue  # that thread ended while we looked
        if state not in ("Z", "X"):
            return False
    return True


def _terminate(pid: int, timeout_s: float) -> bool:
    """SIGTERM, then SIGKILL after ``timeout_s``; True if the process ended on SIGTERM (cleanly)."""

    def gone(wait_s: float) -> bool:
        deadline = time.monotonic() + wait_s
        while not _exited(pid):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.2)
        return True

    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    if gone(timeout_s):
        return True
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    if not gone(10.0):
        raise StoreUnavailable(f"Neo4j (pid {pid}) survived SIGKILL")
    return False


# -- the class-data archive ---------------------------------------------------------------------------
# Most of a start's 8-9 s here goes to loading and verifying Neo4j's classes. Java's dynamic
# class-data sharing archive (AppCDS) records the classes a server loaded when it exits, if it was
# started with -XX:ArchiveClassesAtExit; a server started with -XX:SharedArchiveFile maps them
# instead, and starts in about two thirds of the time (measured: 5.7-6.2 s against 8.7-9.3 s).
# One server records the archive for the jar cache (the first started without one); the recording
# costs that server's stop about 12 s. The archive is kept only if that server stopped on SIGTERM:
# a killed or crashed recorder leaves a part file that is deleted, and the next start records again.
# The JVM checks an archive against itself and the classpath and ignores one that does not match
# (-Xshare:auto, the default), so a stale archive costs only the time it would have saved; its name
# also carries the Java binary's identity, so another JDK records its own.
_ARCHIVE_CLAIM_STALE_S = 600.0


@dataclass(frozen=True)
class _ClassArchive:
    final: Path
    """The archive every start maps once it exists."""
    part: Path
    """Where the recording server writes it when it exits."""
    claim: Path
    """Present while one server records the archive: that JVM's pid."""


def _class_archive(java: str, cache: Path) -> _ClassArchive | None:
    """The archive for this JDK and jar cache (None when ``MATCHGRAPH_NEO4J_CLASS_ARCHIVE=off``)."""
    if os.environ.get(CLASS_ARCHIVE_ENV, "").strip().lower() in ("off", "0", "false", "no"):
        return None
    binary = Path(java).resolve()
    info = binary.stat()
    jars = (cache / ".complete").read_text(encoding="utf-8").strip() if (cache / ".complete").exists() else ""
    identity = f"{binary}|{info.st_size}|{info.st_mtime_ns}|{jars}|{' '.join(_JVM_FLAGS)}"
    key = hashlib.sha256(identity.encode()).hexdigest()[:16]
    folder = cache / "class-archive"
    return _ClassArchive(folder / f"neo4j-{key}.jsa", folder / f"neo4j-{key}.jsa.part", folder / f"neo4j-{key}.claim")


def _archive_flags(archive: _ClassArchive | None) -> tuple[list[str], bool]:
    """The JVM flags for a start, and whether this start records the archive."""
    if archive is None:
        return [], False
    if archive.final.exists():
        return [f"-XX:SharedArchiveFile={archive.final}"], False
    archive.final.parent.mkdir(parents=True, exist_ok=True)
    with _locked(archive.final.parent / ".lock"):
        if archive.final.exists():
            return [f"-XX:SharedArchiveFile={archive.final}"], False
        if archive.claim.exists():
            text = archive.claim.read_text(encoding="utf-8").strip()
            age = time.time() - archive.claim.stat().st_mtime
            alive = _cmdline(int(text)) is not None if text.isdigit() else age < _ARCHIVE_CLAIM_STALE_S
            if alive:
                return [], False  # another server is recording it: start without
            _drop_recording(archive)  # its recorder ended without a clean stop
        archive.claim.write_text("", encoding="utf-8")
        archive.part.unlink(missing_ok=True)
        return [f"-XX:ArchiveClassesAtExit={archive.part}"], True


def _drop_recording(archive: _ClassArchive) -> None:
    archive.part.unlink(missing_ok=True)
    archive.claim.unlink(missing_ok=True)


def _settle_archive(pid: int, clean: bool) -> None:
    """After server ``pid`` ended: if it was recording the archive, keep the archive when it stopped
    cleanly (the JVM wrote it on the way out), else delete the part it may have left."""
    folder = jar_cache_dir() / "class-archive"
    if not folder.is_dir():
        return
    with _locked(folder / ".lock"):
        for claim in folder.glob("neo4j-*.claim"):
            if claim.read_text(encoding="utf-8").strip() != str(pid):
                continue
            archive = _ClassArchive(claim.with_suffix(".jsa"), claim.with_suffix(".jsa.part"), claim)
            if clean and archive.part.is_file() and archive.part.stat().st_size > 0:
                archive.part.replace(archive.final)
            _drop_recording(archive)


def _clear_run_files(lay: _Layout) -> None:
    lay.pid_file.unlink(missing_ok=True)
    lay.ports_file.unlink(missing_ok=True)


def _log_excerpt(log: Path, limit: int = 20) -> str:
    """The lines that explain a failure: ERROR lines and exception causes, else the last lines."""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return "(no console log)"
    causes = [ln for ln in lines if " ERROR " in ln or ln.startswith(("Caused by:", "Exception", "Error:"))]
    picked = causes[-limit:] if causes else lines[-limit:]
    return "\n".join(picked) or "(empty console log)"
