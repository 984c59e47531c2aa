"""The match graph's vocabulary: node and edge kinds, artifact types, pricing, ids, and the records.

Labels and relationship types only ever come from the enums below, never from input, so no query
is built from user text. Ids are ASCII slugs (:data:`ID_PATTERN`), which keeps them safe in URLs,
file names and the Neo4j Browser, and leaves no room for look-alike ids: a Cyrillic ``а`` or a
fullwidth ``ａ`` would otherwise give a second artifact that reads like the first. The pattern is
written here once; the pydantic type :data:`ArtifactId`, :func:`is_valid_id` and the polars
expressions :func:`fold_id_expr` / :func:`id_problem_expr` all build on it.

Sizes and value ranges are not written into the models: they come from a
:class:`graph.limits.ReadLimits` passed as the validation context (``context={"limits": ...}``),
so ``MATCHGRAPH_*`` settings are what the readers enforce.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from enum import StrEnum
from functools import cache
from typing import Annotated, Any

import polars as pl
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from graph.limits import DEFAULT_LIMITS, ReadLimits

_ID_FIRST = "a-z0-9"
_ID_REST = "a-z0-9._-"
ID_PATTERN = rf"^[{_ID_FIRST}][{_ID_REST}]*$"
"""An artifact id: lower-case ASCII letters and digits, then also ``.``, ``_`` and ``-``. Its
length limit is ``MATCHGRAPH_MAX_ID_CHARS``."""
ID_RE = re.compile(ID_PATTERN)
TYPED_ID_PATTERN = rf"^[A-Z{_ID_FIRST}][A-Z{_ID_REST}]*$"
"""An id as people may type it (in a URL, on the command line): upper case is folded on lookup."""
ID_SPACE = " \t\n\r\f\v"
"""What is trimmed around an id: ASCII whitespace only, the same in Python and in polars."""
NON_ASCII = r"[^\x00-\x7F]"
_SLUG_DROP = re.compile(r"[^a-z0-9.]+")
_SPACE = re.compile(r"\s+")
MAX_INTENT_CHARS = 256
LOOKALIKE_HINT = "ids are ASCII slugs; look-alike letters (Cyrillic, Greek, fullwidth), ligatures and " \
                 "zero-width characters are refused"


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


TYPE_LABELS: dict[str, str] = {
    "agent": "Agent", "api": "API", "app": "App", "benchmark": "Benchmark", "cli": "CLI Tool", "dataset": "Dataset",
    "extension": "Extension", "finetune": "Fine-tune", "framework": "Framework", "mcp": "MCP Server",
    "model": "Model", "platform": "Platform", "product": "Product", "prompt": "Prompt", "repo": "Repository",
    "skill": "Skill", "template": "Template", "webapp": "Web App", "workflow": "Workflow",
}
"""Each type as people write it on a page (``mcp`` is an "MCP Server", ``webapp`` a "Web App")."""
TYPE_PLURALS: dict[str, str] = {"repo": "repositories", "cli": "CLI tools", "mcp": "MCP servers",
                                "webapp": "web apps", "api": "APIs", "finetune": "fine-tunes"}
"""Plurals that are not the label, lower-cased, plus an s."""


def type_label(value: str | None) -> str:
    return TYPE_LABELS.get(value or "", (value or "unknown type").replace("_", " ").capitalize())


def type_plural(value: str | None) -> str:
    return TYPE_PLURALS.get(value or "", type_label(value).lower() + "s")


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
    SEEKS = "SEEKS"
    BEST_FOR = "BEST_FOR"


SIGNALS = ("downloads", "stars", "likes", "dependents", "forks", "contributors")
"""External adoption signals a catalog may give; each becomes a numeric artifact column."""


# --------------------------------------------------------------------------------------------
# Ids
# --------------------------------------------------------------------------------------------

def fold_id(value: str) -> str:
    """An id as given, trimmed, and lower-cased only when it is ASCII.

    Lower-casing first would let look-alikes through: the Kelvin sign ``K`` lower-cases to an
    ASCII ``k``.
    """
    value = value.strip(ID_SPACE)
    return value.lower() if value.isascii() else value


def _describe(char: str) -> str:
    return f"U+{ord(char):04X} {unicodedata.name(char, 'unnamed character')}"


def id_problem(value: str, max_chars: int = DEFAULT_LIMITS.max_id_chars) -> str | None:
    """Why a folded id is not valid (``None`` when it is), in words a rejects file can show."""
    if not value:
        return "empty"
    if not value.isascii():
        odd = next(c for c in value if not c.isascii())
        return f"holds the non-ASCII character {_describe(odd)}: {LOOKALIKE_HINT}"
    if len(value) > max_chars:
        return f"longer than {max_chars} characters"
    if not ID_RE.match(value):
        return (f"does not match the pattern {ID_PATTERN} (lower-case ASCII letters, digits, '.', '_', '-', "
                "starting with a letter or digit)")
    return None


def is_valid_id(value: str, max_chars: int = DEFAULT_LIMITS.max_id_chars) -> bool:
    return id_problem(value, max_chars) is None


def fold_id_expr(expr: pl.Expr) -> pl.Expr:
    """The polars twin of :func:`fold_id`."""
    trimmed = expr.str.strip_chars(ID_SPACE)
    return pl.when(trimmed.str.contains(NON_ASCII)).then(trimmed).otherwise(trimmed.str.to_lowercase())


def id_problem_expr(expr: pl.Expr, max_chars: int) -> pl.Expr:
    """The reason a folded id is not valid, or null: the polars twin of :func:`id_problem`.

    The reasons are the same in kind; the non-ASCII one does not name the character (the rejects
    file holds the raw record).
    """
    return (
        pl.when(expr.is_null() | (expr.str.len_bytes() == 0)).then(pl.lit("empty"))
        .when(expr.str.contains(NON_ASCII)).then(pl.lit(f"holds a non-ASCII character: {LOOKALIKE_HINT}"))
        .when(expr.str.len_bytes() > max_chars).then(pl.lit(f"longer than {max_chars} characters"))
        .when(~expr.str.contains(ID_PATTERN))
        .then(pl.lit(f"does not match the pattern {ID_PATTERN}"))
        .otherwise(pl.lit(None, pl.String))
    )


def unusual_ids_pattern(max_chars: int) -> str:
    """A regex that finds, in ids joined by newlines, any id that is not already a folded, valid id.

    Readers run it once per record over all its ids and do the per-id work (folding, the reason
    for a bad one) only where it matches; it is built from the same character classes as
    :data:`ID_PATTERN`.
    """
    return rf"[^\n{_ID_REST}]|(?:^|\n)(?:[^{_ID_FIRST}]|$)|[^\n]{{{max_chars + 1}}}"


def limits_of(info: ValidationInfo) -> ReadLimits:
    """The limits a validation runs under: ``context={"limits": ReadLimits(...)}``, else the defaults."""
    context = info.context
    if isinstance(context, dict):
        limits = context.get("limits")
        if isinstance(limits, ReadLimits):
            return limits
    return DEFAULT_LIMITS


def _fold_input(value: object) -> object:
    return fold_id(value) if isinstance(value, str) else value


def _check_id(value: str, info: ValidationInfo) -> str:
    problem = id_problem(value, limits_of(info).max_id_chars)
    if problem:
        raise ValueError(f"not an artifact id: {problem}")
    return value


ArtifactId = Annotated[str, BeforeValidator(_fold_input), AfterValidator(_check_id)]
"""The one id type of every record: trimmed, case-folded when ASCII, then checked."""


def slugify(text: str) -> str:
    """Turn a catalog name (``meta-llama/Llama-3.1-8B``) into an id (``meta-llama-llama-3.1-8b``)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    slug = _SLUG_DROP.sub("-", folded).strip("-.")
    return slug[:DEFAULT_LIMITS.max_id_chars]


_SYNTHETIC = re.compile(r"(?:^|[._-])synthetic(?:[._-]|$)", re.IGNORECASE)


def is_synthetic_source(source: str) -> bool:
    """Whether a log file's name says no person made its searches: ``synthetic`` as a word of the
    file name (``searches.synthetic.jsonl.gz``, ``synthetic-logs.csv``), which ``matchgraph synth``
    and the shipped samples use. The ingest ledger keeps every file's name, so what the ranks rest
    on can be told later: pages then speak of synthetic logs, never of search data."""
    name = source.replace("\\", "/").rsplit("/", 1)[-1]
    return bool(_SYNTHETIC.search(name))


# --------------------------------------------------------------------------------------------
# Intents
# --------------------------------------------------------------------------------------------

def normalize_intent(query: str) -> str:
    """The intent a query expresses: NFKC, case-folded, whitespace collapsed, trimmed to 256 chars.

    Two searches with the same intent differ only in case, spacing or Unicode form.
    """
    text = unicodedata.normalize("NFKC", query).casefold()
    return _SPACE.sub(" ", text).strip()[:MAX_INTENT_CHARS]


@cache
def _casefold_table() -> tuple[list[str], list[str], str]:
    """Every character ``str.casefold`` changes, what it becomes, and a class of Python's ``\\s``.

    Case mappings live in Unicode planes 0 and 1, so those are all that is scanned.
    """
    keys, values = [], []
    for code in range(0x20000):
        char = chr(code)
        folded = char.casefold()
        if folded != char:
            keys.append(char)
            values.append(folded)
    spaces = "".join(f"\\x{{{code:x}}}" for code in range(0x110000) if chr(code).isspace())
    return keys, values, f"[{spaces}]+"


def normalize_intent_expr(column: str | pl.Expr = "query") -> pl.Expr:
    """The polars twin of :func:`normalize_intent`, equal to it on every string.

    ``str.to_lowercase`` is not ``str.casefold`` (``ß`` stays ``ß``, a final ``ς`` stays ``ς``, and
    Cherokee goes the other way), so the case folding is Python's own table, applied with
    ``replace_many``; whitespace is Python's ``\\s`` (which also counts U+001C..U+001F).
    """
    keys, values, spaces = _casefold_table()
    expr = pl.col(column) if isinstance(column, str) else column
    return (
        expr.str.normalize("NFKC")
        .str.replace_many(keys, values)
        .str.replace_all(spaces, " ")
        .str.strip_chars(" ")
        .str.slice(0, MAX_INTENT_CHARS)
    )


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------

def _text(value: str, info: ValidationInfo) -> str:
    limit = limits_of(info).max_field_chars
    if len(value) > limit:
        raise ValueError(f"longer than {limit} characters (MATCHGRAPH_MAX_FIELD_CHARS)")
    return value


def _name(value: str, info: ValidationInfo) -> str:
    limit = limits_of(info).max_name_chars
    if len(value) > limit:
        raise ValueError(f"longer than {limit} characters (MATCHGRAPH_MAX_NAME_CHARS)")
    return value


def _items(value: list[Any], info: ValidationInfo) -> list[Any]:
    limit = limits_of(info).max_list_items
    if len(value) > limit:
        raise ValueError(f"more than {limit} items (MATCHGRAPH_MAX_LIST_ITEMS)")
    return value


def _signal(value: float, info: ValidationInfo) -> float:
    limit = limits_of(info).max_signal_value
    if value > limit:
        raise ValueError(f"above the largest accepted signal, {limit:g} (MATCHGRAPH_MAX_SIGNAL_VALUE)")
    return value


def _score(value: float, info: ValidationInfo) -> float:
    limit = limits_of(info).max_signal_value
    if abs(value) > limit:
        raise ValueError(f"beyond the largest accepted number, {limit:g} (MATCHGRAPH_MAX_SIGNAL_VALUE)")
    return value


def _price(value: float, info: ValidationInfo) -> float:
    limit = limits_of(info).max_price_per_mtok
    if value > limit:
        raise ValueError(f"above the largest accepted price, {limit:g} USD per million tokens "
                         "(MATCHGRAPH_MAX_PRICE_PER_MTOK)")
    return value


def _released(value: date, info: ValidationInfo) -> date:
    latest = limits_of(info).latest_date()
    if value > latest:
        raise ValueError(f"{value.isoformat()} is in the future (after {latest.isoformat()})")
    return value


def _entries(value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
    limit = limits_of(info).max_list_items
    if len(value) > limit:
        raise ValueError(f"more than {limit} entries (MATCHGRAPH_MAX_LIST_ITEMS)")
    return value


Text = Annotated[str, AfterValidator(_text)]
Name = Annotated[str, Field(min_length=1), AfterValidator(_name)]
ShortText = Annotated[str, AfterValidator(_name)]
Count = Annotated[float, Field(ge=0, allow_inf_nan=False), AfterValidator(_signal)]
Price = Annotated[float, Field(ge=0, allow_inf_nan=False), AfterValidator(_price)]
Score = Annotated[float, Field(allow_inf_nan=False), AfterValidator(_score)]
"""A benchmark result: any finite number (a benchmark may score below zero), at most as large as a signal."""


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Capability(_Record):
    """One decomposed capability of an artifact, as a catalog gives it."""

    name: Name
    description: Text | None = None
    unique: Text | None = None
    vs_alternatives: Text | None = None
    tags: Annotated[list[ShortText], AfterValidator(_items)] = Field(default_factory=list)


class Signals(_Record):
    downloads: Count | None = None
    stars: Count | None = None
    likes: Count | None = None
    dependents: Count | None = None
    forks: Count | None = None
    contributors: Count | None = None


_NO_SIGNALS = Signals()


class Artifact(_Record):
    """A catalog record in the native format; only ``id``, ``name`` and ``type`` are required."""

    id: ArtifactId
    name: Name
    type: ArtifactType
    provider: ShortText | None = None
    pricing: Pricing = Pricing.UNKNOWN
    url: Text | None = None
    description: Text | None = None
    license: ShortText | None = None
    released: Annotated[date, AfterValidator(_released)] | None = None
    signals: Signals = _NO_SIGNALS
    price_input: Price | None = Field(default=None, description="USD per million input tokens")
    price_output: Price | None = Field(default=None, description="USD per million output tokens")
    derived_from: Annotated[list[ArtifactId], AfterValidator(_items)] = Field(default_factory=list)
    integrates_with: Annotated[list[ArtifactId], AfterValidator(_items)] = Field(default_factory=list)
    capabilities: Annotated[list[Capability], AfterValidator(_items)] = Field(default_factory=list)
    benchmarks: Annotated[dict[ShortText, Score], AfterValidator(_entries)] = Field(
        default_factory=dict, description="Benchmark results by benchmark name, on the benchmark's own scale")

    @field_validator("signals", mode="before")
    @classmethod
    def _no_null_signals(cls, value: object) -> object:
        return _NO_SIGNALS if value is None else value
