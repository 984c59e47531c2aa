"""One settings object for the whole project (environment, ``.env``, then defaults).

Secrets have no defaults. Every limit on a user-controlled size lives here so the CLI and the API
enforce the same numbers.
"""

from __future__ import annotations

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

    # The HTTP API.
    cors_origins: list[str] = Field(default_factory=list, validation_alias="MATCHGRAPH_CORS_ORIGINS")
    """Origins allowed to call the API from a browser (JSON list); none by default."""
    cache_entries: int = Field(default=4_096, ge=0, validation_alias="MATCHGRAPH_CACHE_ENTRIES")
    """Answers kept per graph version (0 turns the answer cache off)."""
    cache_mib: int = Field(default=64, ge=1, validation_alias="MATCHGRAPH_CACHE_MIB")
    """Memory the kept answers may take in all."""
    version_check_s: float = Field(default=1.0, ge=0, validation_alias="MATCHGRAPH_VERSION_CHECK_S")
    """How often the API asks the store whether the graph changed: a write is served within this."""
    retry_after_s: int = Field(default=5, ge=1, validation_alias="MATCHGRAPH_RETRY_AFTER_S")

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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests build their own ``Settings`` instead of patching this."""
    return Settings()
