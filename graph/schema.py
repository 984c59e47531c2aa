"""The match graph's vocabulary: node and edge kinds, artifact types, pricing, and the records.

Labels and relationship types only ever come from the enums below, never from input, so no query
is built from user text. Ids are slugs (``[a-z0-9][a-z0-9._-]*``), which keeps them safe in URLs,
file names and the Neo4j Browser.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,199}$"
_ID_RE = re.compile(ID_PATTERN)
TYPED_ID_PATTERN = ID_PATTERN.replace("a-z0-9", "A-Za-z0-9")
"""An id as people may type it (in a URL, on the command line): upper case is folded on lookup."""
_SLUG_DROP = re.compile(r"[^a-z0-9.]+")
_SPACE = re.compile(r"\s+")
MAX_INTENT_CHARS = 256


class ArtifactType(StrEnum):
    AGENT = "agent"
    API = "api"
    APP = "app"
    BENCHMARK = "benchmark"
    CLI = "cli"
    DATASET = "dataset"
    EXTENSION = "extension"
    FINETUNE = "finetune"
    FRAMEWORK = "framework"
    MCP = "mcp"
    MODEL = "model"
    PLATFORM = "platform"
    PRODUCT = "product"
    PROMPT = "prompt"
    REPO = "repo"
    SKILL = "skill"
    TEMPLATE = "template"
    WEBAPP = "webapp"
    WORKFLOW = "workflow"


class Pricing(StrEnum):
    FREE = "free"
    FREEMIUM = "freemium"
    PAID = "paid"
    UNKNOWN = "unknown"


class NodeLabel(StrEnum):
    ARTIFACT = "Artifact"
    CAPABILITY = "Capability"
    INTENT = "Intent"
    PROVIDER = "Provider"


class EdgeType(StrEnum):
    HAS_CAPABILITY = "HAS_CAPABILITY"
    PROVIDED_BY = "PROVIDED_BY"
    DERIVED_FROM = "DERIVED_FROM"
    INTEGRATES_WITH = "INTEGRATES_WITH"
    MATCHED = "MATCHED"
    CO_MATCHED = "CO_MATCHED"
    PREFERRED_OVER = "PREFERRED_OVER"


SIGNALS = ("downloads", "stars", "likes", "dependents", "forks", "contributors")
"""External adoption signals a catalog may give; each becomes a numeric artifact column."""


def is_valid_id(value: str) -> bool:
    return bool(_ID_RE.match(value))


def slugify(text: str) -> str:
    """Turn a catalog name (``meta-llama/Llama-3.1-8B``) into an id (``meta-llama-llama-3.1-8b``)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    slug = _SLUG_DROP.sub("-", folded).strip("-.")
    return slug[:200]


def normalize_intent(query: str) -> str:
    """The intent a query expresses: NFKC, case-folded, whitespace collapsed, trimmed to 256 chars.

    Two searches with the same intent differ only in case, spacing or Unicode form.
    """
    text = unicodedata.normalize("NFKC", query).casefold()
    return _SPACE.sub(" ", text).strip()[:MAX_INTENT_CHARS]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Capability(_Record):
    """One decomposed capability of an artifact, as a catalog gives it."""

    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    unique: str | None = Field(default=None, max_length=10_000)
    vs_alternatives: str | None = Field(default=None, max_length=10_000)
    tags: list[str] = Field(default_factory=list, max_length=50)


class Signals(_Record):
    downloads: float | None = Field(default=None, ge=0)
    stars: float | None = Field(default=None, ge=0)
    likes: float | None = Field(default=None, ge=0)
    dependents: float | None = Field(default=None, ge=0)
    forks: float | None = Field(default=None, ge=0)
    contributors: float | None = Field(default=None, ge=0)


class Artifact(_Record):
    """A catalog record in the native format; only ``id``, ``name`` and ``type`` are required."""

    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=300)
    type: ArtifactType
    provider: str | None = Field(default=None, max_length=200)
    pricing: Pricing = Pricing.UNKNOWN
    url: str | None = Field(default=None, max_length=2_000)
    description: str | None = Field(default=None, max_length=10_000)
    license: str | None = Field(default=None, max_length=200)
    released: date | None = None
    signals: Signals = Field(default_factory=Signals)
    price_input: float | None = Field(default=None, ge=0, description="USD per million input tokens")
    price_output: float | None = Field(default=None, ge=0, description="USD per million output tokens")
    derived_from: list[str] = Field(default_factory=list, max_length=100)
    integrates_with: list[str] = Field(default_factory=list, max_length=500)
    capabilities: list[Capability] = Field(default_factory=list, max_length=500)

    @field_validator("id", mode="before")
    @classmethod
    def _lower_id(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("derived_from", "integrates_with")
    @classmethod
    def _valid_ids(cls, values: list[str]) -> list[str]:
        cleaned = [v.strip().lower() for v in values]
        bad = [v for v in cleaned if not is_valid_id(v)]
        if bad:
            raise ValueError(f"not a valid artifact id: {bad[0][:80]!r}")
        return cleaned
