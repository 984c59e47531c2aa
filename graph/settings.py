"""One settings object for the whole project (environment, ``.env``, then defaults).

Secrets have no defaults. Every limit on a user-controlled size lives here so the CLI and the API
enforce the same numbers.
"""

from __future__ import annotations

import os
from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration read from ``MATCHGRAPH_*`` / ``NEO4J_*`` variables and ``.env``."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    home: Path = Field(default=Path(".matchgraph"), validation_alias="MATCHGRAPH_HOME")

    neo4j_uri: str | None = Field(default=None, validation_alias="NEO4J_URI")
    neo4j_user: str = Field(default="neo4j", validation_alias="NEO4J_USER")
    neo4j_password: SecretStr | None = Field(default=None, validation_alias="NEO4J_PASSWORD")
    neo4j_database: str = Field(default="neo4j", validation_alias="NEO4J_DATABASE")
    neo4j_timeout_s: float = Field(default=30.0, validation_alias="MATCHGRAPH_NEO4J_TIMEOUT_S")
    """Server-side time limit of an interactive read transaction (connections: see below)."""
    neo4j_batch_size: int = Field(default=10_000, ge=100, le=100_000, validation_alias="MATCHGRAPH_NEO4J_BATCH")

    run_lock_ttl_s: float = Field(default=3_600.0, gt=0, validation_alias="MATCHGRAPH_RUN_LOCK_TTL_S")
    write_batch_searches: int = Field(default=2_000_000, ge=1, validation_alias="MATCHGRAPH_WRITE_BATCH_SEARCHES")
    """Log files are written to the store together, one atomic write per this many searches."""
    nightly_settle_s: float = Field(default=0.0, ge=0, validation_alias="MATCHGRAPH_NIGHTLY_SETTLE_S")
    """The nightly job leaves a file modified less than this long ago for the next run (0: off; set it
    when files land in the folders while a run may be going)."""

    admin_token: SecretStr | None = Field(default=None, validation_alias="MATCHGRAPH_ADMIN_TOKEN")

    # Limits on user-controlled sizes.
    max_input_bytes: int = Field(default=4 << 30, validation_alias="MATCHGRAPH_MAX_INPUT_BYTES")
    max_field_chars: int = Field(default=10_000, validation_alias="MATCHGRAPH_MAX_FIELD_CHARS")
    max_results_per_search: int = Field(default=200, validation_alias="MATCHGRAPH_MAX_RESULTS")
    max_limit: int = Field(default=200, validation_alias="MATCHGRAPH_MAX_LIMIT")
    max_depth: int = Field(default=3, validation_alias="MATCHGRAPH_MAX_DEPTH")
    max_query_chars: int = Field(default=256, validation_alias="MATCHGRAPH_MAX_QUERY_CHARS")
    max_offset: int = Field(default=10_000, ge=0, validation_alias="MATCHGRAPH_MAX_OFFSET")
    max_neighborhood_nodes: int = Field(default=100, ge=2, validation_alias="MATCHGRAPH_MAX_NEIGHBORHOOD_NODES")
    max_upload_bytes: int = Field(default=256 << 20, ge=1, validation_alias="MATCHGRAPH_MAX_UPLOAD_BYTES")

    # --- Input readers --------------------------------------------------------------------------
    # The readers take these (with max_field_chars and max_results_per_search above) through one
    # graph.limits.ReadLimits object; nothing in ingest/ keeps a copy of the numbers.
    max_id_chars: int = Field(default=200, ge=1, validation_alias="MATCHGRAPH_MAX_ID_CHARS")
    """Longest artifact or search id."""
    max_name_chars: int = Field(default=300, ge=1, validation_alias="MATCHGRAPH_MAX_NAME_CHARS")
    """Longest short text: names, providers, licenses, tags, session ids."""
    max_list_items: int = Field(default=500, ge=1, validation_alias="MATCHGRAPH_MAX_LIST_ITEMS")
    """Most items in one catalog list (capabilities, tags, derived_from, integrates_with)."""
    max_record_bytes: int = Field(default=16 << 20, ge=1024, validation_alias="MATCHGRAPH_MAX_RECORD_BYTES")
    """Longest line of a line-based input; a longer one is rejected without being held in memory."""
    max_signal_value: float = Field(default=1e15, gt=0, validation_alias="MATCHGRAPH_MAX_SIGNAL_VALUE")
    """Largest adoption signal (downloads, stars, ...) a catalog may give."""
    max_price_per_mtok: float = Field(default=1e6, gt=0, validation_alias="MATCHGRAPH_MAX_PRICE_PER_MTOK")
    """Largest price, in USD per million tokens."""
    ts_earliest: date = Field(default=date(2000, 1, 1), validation_alias="MATCHGRAPH_TS_EARLIEST")
    """Searches and events dated before this day are rejected."""
    ts_future_tolerance_s: float = Field(default=86_400.0, ge=0, validation_alias="MATCHGRAPH_TS_FUTURE_TOLERANCE_S")
    """How far past the current time a timestamp (or a release date) may lie: clocks drift."""
    # --- end of input readers -------------------------------------------------------------------

    # The HTTP API.
    cors_origins: list[str] = Field(default_factory=list, validation_alias="MATCHGRAPH_CORS_ORIGINS")
    """Origins allowed to call the API from a browser (JSON list); none by default."""
    browser_origins: list[str] = Field(
        default_factory=lambda: ["http://127.0.0.1:7474", "http://localhost:7474"],
        validation_alias="MATCHGRAPH_BROWSER_ORIGINS",
    )
    """Origins of the Neo4j Browser allowed to fetch the guide and style under ``/browser`` (JSON
    list): the Browser runs ``:guide <url>`` from its own page, so the fetch is cross-origin."""
    cache_entries: int = Field(default=4_096, ge=0, validation_alias="MATCHGRAPH_CACHE_ENTRIES")
    """Answers kept per graph version (0 turns the answer cache off)."""
    cache_mib: int = Field(default=64, ge=1, validation_alias="MATCHGRAPH_CACHE_MIB")
    """Memory the kept answers may take in all."""
    version_check_s: float = Field(default=1.0, ge=0, validation_alias="MATCHGRAPH_VERSION_CHECK_S")
    """How often the API asks the store whether the graph changed: a write is served within this."""
    retry_after_s: int = Field(default=5, ge=1, validation_alias="MATCHGRAPH_RETRY_AFTER_S")
    worker_threads: int = Field(default_factory=lambda: 2 * (os.cpu_count() or 1), ge=1, le=256,
                                validation_alias="MATCHGRAPH_WORKER_THREADS")
    """Threads that compute answers in one server process (default: two per core)."""
    server_polars_threads: int = Field(default=1, ge=1, le=256, validation_alias="MATCHGRAPH_SERVER_POLARS_THREADS")
    """polars threads per answer in a server process (``POLARS_MAX_THREADS``): with several answers
    computed at once, one each keeps the cores busy without oversubscribing them."""
    header_timeout_s: float = Field(default=10.0, gt=0, validation_alias="MATCHGRAPH_HEADER_TIMEOUT_S")
    """How long a client may take to send a request's line and headers before the connection closes."""
    body_idle_timeout_s: float = Field(default=30.0, gt=0, validation_alias="MATCHGRAPH_BODY_IDLE_TIMEOUT_S")
    """How long a request body may stall (no bytes at all) before the connection closes."""

    # -- Neo4j: write size, failure detection, the writer lease (graph/neo4j_store.py) ------------
    neo4j_rows_per_write: int = Field(default=200_000, ge=1_000, validation_alias="MATCHGRAPH_NEO4J_ROWS_PER_WRITE")
    """Rows one write transaction may carry. Neo4j builds a transaction's commit in its heap (a
    900k-row file aggregate runs the 1 GB heap out of memory at commit), so a bigger file is written
    in key-disjoint parts of at most this many rows, each with its own ledger row."""
    neo4j_connect_timeout_s: float = Field(default=2.0, gt=0, validation_alias="MATCHGRAPH_NEO4J_CONNECT_TIMEOUT_S")
    """Opening a connection: TCP connect plus the Bolt handshake (a frozen server accepts TCP but
    never answers the handshake)."""
    neo4j_acquire_timeout_s: float = Field(default=3.0, gt=0, validation_alias="MATCHGRAPH_NEO4J_ACQUIRE_TIMEOUT_S")
    """Getting a connection for a transaction: from the pool (with its liveness check) or newly
    opened. This bounds how long a request waits on a Neo4j that stopped or froze."""
    neo4j_liveness_check_s: float = Field(default=0.0, ge=0, validation_alias="MATCHGRAPH_NEO4J_LIVENESS_CHECK_S")
    """A pooled connection idle this long answers a round trip before it is used again (0: always),
    within the acquire timeout: a connection to a server that stopped answering is dropped instead
    of blocking a request."""
    neo4j_write_retry_s: float = Field(default=30.0, ge=0, validation_alias="MATCHGRAPH_NEO4J_WRITE_RETRY_S")
    """How long a write transaction is retried on transient errors (leader switch, deadlock,
    server restart) before the write fails."""

    # Scoring.
    half_life_days: float = Field(default=30.0, gt=0, validation_alias="MATCHGRAPH_HALF_LIFE_DAYS")
    weights_file: Path | None = Field(default=None, validation_alias="MATCHGRAPH_WEIGHTS")

    # --- The capability graph (queries.capabilities, queries.search) ----------------------------
    capability_merge_similarity: float = Field(default=0.6, ge=-1, le=1,
                                               validation_alias="MATCHGRAPH_CAPABILITY_MERGE_SIMILARITY")
    """Two capability names are one capability only if their vectors' cosine is at least this..."""
    capability_merge_wording: float = Field(default=0.6, ge=0, le=1,
                                            validation_alias="MATCHGRAPH_CAPABILITY_MERGE_WORDING")
    """... and the Dice overlap of their words and word pairs at least this."""
    capability_max_feature_names: int = Field(default=2_000, ge=2,
                                              validation_alias="MATCHGRAPH_CAPABILITY_MAX_FEATURE_NAMES")
    """A word held by more distinct capability names than this proposes no pairs (too common to tell)."""
    seeks_min_similarity: float = Field(default=0.3, ge=0, le=1, validation_alias="MATCHGRAPH_SEEKS_MIN_SIMILARITY")
    """An intent is linked only to capabilities whose text is at least this similar to it."""
    seeks_min_confidence: float = Field(default=0.5, ge=0, le=1, validation_alias="MATCHGRAPH_SEEKS_MIN_CONFIDENCE")
    seeks_prior_clicks: float = Field(default=5.0, gt=0, validation_alias="MATCHGRAPH_SEEKS_PRIOR_CLICKS")
    """How many clicks the text similarity weighs as, in a link's confidence."""
    seeks_per_intent: int = Field(default=5, ge=1, le=50, validation_alias="MATCHGRAPH_SEEKS_PER_INTENT")
    board_prior_sd: float = Field(default=0.5, gt=0, validation_alias="MATCHGRAPH_BOARD_PRIOR_SD")
    """How far (in rating units) a need's rating may stray from the overall one before evidence."""
    board_size: int = Field(default=100, ge=1, le=10_000, validation_alias="MATCHGRAPH_BOARD_SIZE")
    """Artifacts stored per board."""
    board_intent_min_searches: int = Field(default=200, ge=1, validation_alias="MATCHGRAPH_BOARD_INTENT_MIN_SEARCHES")
    board_intents: int = Field(default=100, ge=0, le=10_000, validation_alias="MATCHGRAPH_BOARD_INTENTS")
    """At most this many intents (the most searched) get a board of their own."""
    # --- end of the capability graph ------------------------------------------------------------


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests build their own ``Settings`` instead of patching this."""
    return Settings()
