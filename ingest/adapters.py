"""Adapters for public AI-artifact catalogs: each turns one foreign file into native :class:`Artifact` records.

Every adapter is ``read_<name>(path, rejects, limits) -> (artifacts, records read)`` and is registered in
:data:`ADAPTERS` under the name ``read_catalog(..., fmt=<name>)`` and ``--format <name>`` use.
Columns are parsed and cleaned in polars (casts, dates, flags), then each record is validated with
the pydantic model so a bad row gets a precise reason; the files hold thousands of records, not millions.
Records whose id (after :func:`slugify`) was already seen in the same file are rejected with
``duplicate id``: the first record in file order wins, which keeps the result a pure function of
the file.

The rules each adapter applies where the source leaves room for a choice:

* ``litellm`` (``model_prices_and_context_window.json``): every entry is a hosted model, type
  ``model``, except the modes that are services rather than models (web search, vector stores,
  guardrails), which are ``api``. ``provider`` is the host litellm calls (``litellm_provider``,
  e.g. ``bedrock`` -> ``Amazon Bedrock``; ``text-completion-<host>`` is that host's legacy completions
  route), not the model's maker, which the file does not give.
  ``pricing`` is ``paid`` when any cost field is above zero, ``free`` when the entry lists costs
  and all are zero (local or free-tier models), ``unknown`` when it lists none. Per-token prices
  become USD per million tokens.
* ``open-llm-leaderboard`` (Open LLM Leaderboard v2 CSV): ``finetune`` when ``metadata_base_model``
  names another model (``Removed`` and a ``(Merge)`` suffix are cleaned) or the model is a merge
  (flagged as merged, or in the leaderboard's own "base merges and moerges" category), else
  ``model``; ``released`` is the Hub upload date (the submission date is when the leaderboard
  evaluated it); ``pricing`` is ``free`` (open weights). The leaderboard lists some models more
  than once (one row per evaluation: precision, revision, with or without the chat template): the
  first row is kept, but a model counts as shipping a chat template, or as a merge, when any of
  its rows says so: the chat-template flag records how one evaluation was run (an evaluation with
  the template shows the repo has one), and the category is what each submitter declared. The six
  evaluations (IFEval, BBH, MATH Lvl 5, GPQA, MuSR, MMLU-PRO) become ``benchmarks``, on the
  leaderboard's normalised 0-100 scale, when the file has those columns.
* ``best-of-ml`` (best-of-ml-python projects CSV): ``framework`` for the ``ml-frameworks``
  category, else ``repo``; ``pricing`` is ``free`` (open source); ``url`` is ``github_url``, where
  the project lives now (``github_id`` is the name best-of-ml first listed it under, stale for
  repositories that moved, e.g. ``google/jax`` -> ``jax-ml/jax``); ``integrates_with`` maps each
  framework label to the id that framework's own row gets here (``huggingface`` -> ``transformers``,
  ``sklearn`` -> ``scikit-learn``, ...), so the edges land on catalogued projects.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import polars as pl

from graph.errors import BadFile
from graph.limits import DEFAULT_LIMITS, ReadLimits
from graph.schema import slugify
from ingest.files import read_content
from ingest.records import Item, collect, dump, iter_csv_rows, iter_json_container, text_problem

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from pathlib import Path

    from graph.schema import Artifact
    from ingest.rejects import Rejects

def _guarded(number: int, raw: str, build: Callable[[], dict[str, Any]]) -> Item:
    """One record built from a source row; a row the rules cannot turn into a record is a reject."""
    try:
        return Item(number, build(), raw)
    except (ValueError, TypeError, OverflowError, RecursionError) as e:
        return Item(number, None, raw, f"cannot be turned into a catalog record: {e}")


def _read_csv(path: Path, required: tuple[str, ...], limits: ReadLimits) -> tuple[list[Item], pl.DataFrame]:
    """Every row in file order (bad ones with their problem) and the good rows as a frame of strings."""
    header, rows = iter_csv_rows(path, read_content(path, limits))
    missing = [c for c in required if c not in header]
    if missing:
        raise BadFile(path, f"not the expected catalog, missing column(s) {', '.join(missing)}")
    items = []
    for item in rows:
        problem = item.problem or text_problem(item.raw)
        items.append(Item(item.number, None, item.raw, problem) if problem else item)
    frame = pl.DataFrame([i.value for i in items if not i.problem], schema=dict.fromkeys(header, pl.String()))
    return items, frame


def _text(column: str) -> pl.Expr:
    """A trimmed string column with empty values as null."""
    value = pl.col(column).str.strip_chars()
    return pl.when(value == "").then(None).otherwise(value)


def _number(column: str) -> pl.Expr:
    return pl.col(column).str.strip_chars().cast(pl.Float64, strict=False)


def _date(column: str) -> pl.Expr:
    """The ``YYYY-MM-DD`` prefix of a date or timestamp column; anything unparseable becomes null."""
    return pl.col(column).str.strip_chars().str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)


def _flag(column: str) -> pl.Expr:
    return pl.col(column).str.strip_chars().str.to_lowercase().is_in(["true", "1"]).fill_null(False)


def _tokens(n: float) -> str:
    return f"{n:,.0f}"


def _capability(name: str, description: str, tags: Iterable[str]) -> dict[str, Any]:
    return {"name": name, "description": description, "tags": list(dict.fromkeys(tags))}


# --------------------------------------------------------------------------------------------
# litellm: hosted models and their prices
# --------------------------------------------------------------------------------------------

_LITELLM_SPEC_KEY = "sample_spec"
_API_MODES = frozenset({"search", "vector_store", "guardrail"})

# litellm_provider -> a readable host name; ids not listed are title-cased from their words.
_PROVIDERS = {
    "openai": "OpenAI", "chatgpt": "ChatGPT", "azure": "Microsoft Azure",
    "azure_ai": "Azure AI Foundry", "azure_text": "Microsoft Azure", "anthropic": "Anthropic",
    "bedrock": "Amazon Bedrock", "bedrock_converse": "Amazon Bedrock", "bedrock_mantle": "Amazon Bedrock",
    "sagemaker": "Amazon SageMaker", "vertex_ai": "Google Vertex AI", "gemini": "Google Gemini API",
    "mistral": "Mistral AI", "codestral": "Mistral AI", "cohere": "Cohere", "cohere_chat": "Cohere",
    "fireworks_ai": "Fireworks AI", "together_ai": "Together AI", "deepinfra": "DeepInfra", "fal_ai": "fal.ai",
    "perplexity": "Perplexity", "xai": "xAI", "deepseek": "DeepSeek", "groq": "Groq", "cerebras": "Cerebras",
    "databricks": "Databricks", "dashscope": "Alibaba Cloud DashScope", "github_copilot": "GitHub Copilot",
    "oci": "Oracle Cloud Infrastructure", "watsonx": "IBM watsonx", "cloudflare": "Cloudflare Workers AI",
    "replicate": "Replicate", "snowflake": "Snowflake", "ollama": "Ollama", "openrouter": "OpenRouter",
    "voyage": "Voyage AI", "deepgram": "Deepgram", "elevenlabs": "ElevenLabs", "stability": "Stability AI",
    "runwayml": "Runway", "nscale": "Nscale", "novita": "Novita AI", "nebius": "Nebius AI Studio",
    "vercel_ai_gateway": "Vercel AI Gateway", "huggingface": "Hugging Face", "moonshot": "Moonshot AI",
    "zai": "Z.ai", "minimax": "MiniMax", "ai21": "AI21 Labs", "volcengine": "Volcano Engine",
    "lambda_ai": "Lambda", "wandb": "Weights & Biases", "jina_ai": "Jina AI", "aiml": "AI/ML API",
    "black_forest_labs": "Black Forest Labs", "hyperbolic": "Hyperbolic", "baseten": "Baseten",
}

_MODES = {
    "chat": "Chat completion", "completion": "Text completion", "responses": "Responses API",
    "embedding": "Text embeddings", "image_generation": "Image generation", "image_edit": "Image editing",
    "audio_transcription": "Speech to text", "audio_speech": "Text to speech", "video_generation": "Video generation",
    "realtime": "Realtime voice", "rerank": "Reranking", "search": "Web search", "ocr": "Document OCR",
    "moderation": "Content moderation",
}

_FLAGS = {
    "supports_function_calling": ("Function calling", "Answers with calls to tools the caller declares."),
    "supports_parallel_function_calling": ("Parallel function calling", "Can request several tool calls in "
                                           "one turn."),
    "supports_tool_choice": ("Tool choice", "Lets the caller force or forbid a particular tool."),
    "supports_vision": ("Image input", "Takes images alongside text in a request."),
    "supports_pdf_input": ("PDF input", "Reads PDF documents passed in a request."),
    "supports_audio_input": ("Audio input", "Takes audio as part of a request."),
    "supports_audio_output": ("Audio output", "Can answer with generated audio."),
    "supports_video_input": ("Video input", "Takes video as part of a request."),
    "supports_reasoning": ("Reasoning", "Can work through a problem in hidden steps before answering."),
    "supports_web_search": ("Web search", "Can ground answers in live web results."),
    "supports_computer_use": ("Computer use", "Can drive a desktop from screenshots with mouse and keyboard actions."),
    "supports_response_schema": ("Structured output", "Can be held to a JSON schema in its answers."),
    "supports_prompt_caching": ("Prompt caching", "Caches repeated prompt prefixes, billed at a lower rate."),
    "supports_system_messages": ("System messages", "Accepts a system message that frames the conversation."),
    "supports_native_streaming": ("Streaming", "Streams its answer token by token."),
    "supports_assistant_prefill": ("Assistant prefill", "Continues from an answer prefix the caller supplies."),
}


def _provider_name(raw: object) -> str | None:
    if not isinstance(raw, str) or not raw.strip():
        return None
    key = raw.strip().removeprefix("text-completion-")  # text-completion-openai, text-completion-codestral
    if key in _PROVIDERS:
        return _PROVIDERS[key]
    family = key.split("-")[0]  # vertex_ai-language-models, vertex_ai-anthropic_models, ...
    if family in _PROVIDERS:
        return _PROVIDERS[family]
    return " ".join(w[:1].upper() + w[1:] for w in key.replace("_", " ").replace("-", " ").split())


def _num(value: object) -> float | None:
    """A JSON number as float; booleans, strings and nulls are not numbers here."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _costs(spec: dict[str, Any]) -> list[float]:
    """Every number under a ``*cost*`` key, one level of nesting deep (per-query tiers are dicts)."""
    found: list[float] = []
    for key, value in spec.items():
        if "cost" not in key:
            continue
        values = value.values() if isinstance(value, dict) else [value]
        found.extend(n for n in map(_num, values) if n is not None)
    return found


def _per_million(value: object) -> float | None:
    n = _num(value)
    return None if n is None else round(n * 1e6, 9)


def _litellm_record(key: str, spec: dict[str, Any]) -> dict[str, Any]:
    mode = spec.get("mode") if isinstance(spec.get("mode"), str) else None
    provider = _provider_name(spec.get("litellm_provider"))
    costs = _costs(spec)
    pricing = "paid" if any(c > 0 for c in costs) else "free" if costs else "unknown"
    max_in, max_out = _num(spec.get("max_input_tokens")), _num(spec.get("max_output_tokens"))
    price_in = _per_million(spec.get("input_cost_per_token"))
    price_out = _per_million(spec.get("output_cost_per_token"))

    limits = []
    if max_in:
        limits.append(f"up to {_tokens(max_in)} input tokens")
    if max_out:
        limits.append(f"up to {_tokens(max_out)} output tokens")
    capabilities = []
    if mode:
        mode_name = _MODES.get(mode, mode.replace("_", " ").capitalize())
        text = f"Served in litellm's {mode} mode" + (f", {' and '.join(limits)} per request." if limits else ".")
        capabilities.append(_capability(mode_name, text, ["litellm", mode]))
    for flag in sorted(k for k, v in spec.items() if k.startswith("supports_") and v is True):
        words = flag.removeprefix("supports_").replace("_", " ")
        name, text = _FLAGS.get(flag, (words[:1].upper() + words[1:], f"litellm lists support for {words}."))
        capabilities.append(_capability(name, text, ["litellm", flag]))

    kind = _MODES.get(mode) if mode else None
    head = f"{kind} {'service' if mode in _API_MODES else 'model'}" if kind else "Hosted model"
    facts = [head + (f" served by {provider} through litellm" if provider else " served through litellm")]
    if limits:
        facts.append(", ".join(limits))
    if price_in is not None and price_out is not None and (price_in or price_out):
        facts.append(f"${price_in:g} per million input tokens and ${price_out:g} per million output tokens")
    elif pricing == "free":
        facts.append("listed at no cost")
    source = spec.get("source")
    return {
        "id": slugify(key),
        "name": key,
        "type": "api" if mode in _API_MODES else "model",
        "provider": provider,
        "pricing": pricing,
        "url": source if isinstance(source, str) and source.startswith(("https://", "http://")) else None,
        "description": "; ".join(facts) + ".",
        "price_input": price_in,
        "price_output": price_out,
        "capabilities": capabilities,
    }


def litellm_table(path: Path, limits: ReadLimits = DEFAULT_LIMITS) -> dict[str, Any]:
    """The parsed table, model key -> spec, as :func:`read_litellm` reads it.

    Public for the sample builder, which takes facts the native format has no field for (context
    window, per-image and per-query prices) from the same parse as the records.
    """
    table: dict[str, Any] = {}
    for item in iter_json_container(path, read_content(path, limits), "{"):
        if item.problem:
            raise BadFile(path, item.problem)
        key, spec = item.value
        table[key] = spec
    return table


def read_litellm(path: Path, rejects: Rejects, limits: ReadLimits = DEFAULT_LIMITS) -> tuple[list[Artifact], int]:
    """litellm's price and context table: one JSON object keyed by model id.

    Read entry by entry with ``json``, not polars: it is one object of heterogeneous records (each
    with its own subset of ~100 keys), not a table. Record numbers are 1-based positions in the
    object; the ``sample_spec`` entry documents the keys and is no record.
    """

    def items() -> Iterator[Item]:
        for item in iter_json_container(path, read_content(path, limits), "{"):
            if item.problem:
                yield item
                continue
            key, spec = item.value
            if key == _LITELLM_SPEC_KEY:
                continue
            raw = dump({key: spec})
            problem = text_problem(raw)
            if problem or not isinstance(spec, dict):
                yield Item(item.number, None, raw, problem or "not a JSON object")
                continue
            yield _guarded(item.number, raw, partial(_litellm_record, key, spec))

    return collect(items(), str(path), rejects, limits)


# --------------------------------------------------------------------------------------------
# Open LLM Leaderboard v2: open-weight models and their lineage
# --------------------------------------------------------------------------------------------

_LEADERBOARD_COLUMNS = (
    "model_name", "model_type", "model_architecture", "model_average_score", "model_has_chat_template",
    "features_is_merged", "features_is_moe", "metadata_upload_date", "metadata_base_model",
    "metadata_hub_license", "metadata_hub_hearts", "metadata_params_billions",
)


_BENCHMARKS = {"ifeval": "IFEval", "bbh": "BBH", "math": "MATH Lvl 5", "gpqa": "GPQA", "musr": "MuSR",
               "mmlu_pro": "MMLU-PRO"}
"""The leaderboard's six evaluations (column key -> the name it gives them); each becomes a
benchmark result on the leaderboard's normalised 0-100 scale (0 at random guessing), which is
what its average is made of."""
_MERGE_CATEGORY = "basemergesandmoerges"  # the leaderboard's "base merges and moerges" model type


def _leaderboard_frame(frame: pl.DataFrame) -> pl.DataFrame:
    name = _text("model_name")
    same_model = name.str.to_lowercase()  # Hub repo names resolve case-insensitively
    base = _text("metadata_base_model").str.replace(r"\s*\(Merge\)$", "")
    merged = _flag("features_is_merged") | (_text("model_type") == _MERGE_CATEGORY).fill_null(False)
    return frame.select(
        name.alias("name"),
        pl.when(name.str.contains("/")).then(name.str.split("/").list.first()).alias("provider"),
        pl.when(base != "Removed").then(base).alias("base"),
        _text("model_type").alias("model_type"),
        _text("model_architecture").alias("architecture"),
        _number("model_average_score").alias("average"),
        _number("metadata_params_billions").alias("params"),
        _number("metadata_hub_hearts").alias("likes"),
        _text("metadata_hub_license").alias("license"),
        _date("metadata_upload_date").alias("released"),
        _flag("model_has_chat_template").any().over(same_model).alias("chat_template"),
        merged.any().over(same_model).alias("merged"),
        _flag("features_is_moe").alias("moe"),
        pl.struct([_number(f"evaluations_{key}_normalized_score").alias(name) for key, name in _BENCHMARKS.items()
                   if f"evaluations_{key}_normalized_score" in frame.columns]).alias("benchmarks")
        if any(f"evaluations_{key}_normalized_score" in frame.columns for key in _BENCHMARKS)
        else pl.lit(None, pl.Struct({})).alias("benchmarks"),
    )


def _leaderboard_record(row: dict[str, Any]) -> dict[str, Any]:
    name: str = row["name"] or ""
    art_id = slugify(name)
    base: str | None = row["base"]
    base_id = slugify(base) if base else ""
    derived = [base_id] if base_id and base_id != art_id else []
    arch = row["architecture"]
    params = f"{row['params']:.1f}B-parameter " if row["params"] else ""
    facts = [f"Open-weight {params}language model" + (f" ({arch})" if arch else "") + " on Hugging Face"]
    if derived:
        facts.append(f"fine-tuned from {base}")
    if row["merged"]:
        facts.append("made by merging the weights of other models")
    if row["average"] is not None:
        facts.append(f"average score {row['average']:.1f} on the Open LLM Leaderboard v2")
    tags = ["open-llm-leaderboard", "open-weights"]
    caps = [_capability("Open-weight text generation", "Generates text; the weights can be downloaded and run "
                        "locally" + (f" with the {arch} architecture." if arch else "."), [*tags, "llm"])]
    if row["chat_template"]:
        caps.append(_capability("Chat template", "Ships a chat template for multi-turn, instruction-style prompts.",
                                [*tags, "chat"]))
    if row["moe"]:
        caps.append(_capability("Mixture of experts", "Routes each token to a few expert sub-networks, so only "
                                "part of the weights run per token.", [*tags, "moe"]))
    if row["merged"]:
        caps.append(_capability("Model merging", "Combines the weights of parent models without further training.",
                                [*tags, "merge"]))
    if row["model_type"] == "multimodal":
        caps.append(_capability("Multimodal input", "Reads other inputs, such as images, besides text.",
                                [*tags, "multimodal"]))
    return {
        "id": art_id,
        "name": name,
        "type": "finetune" if derived or row["merged"] else "model",
        "provider": row["provider"],
        "pricing": "free",
        "url": f"https://huggingface.co/{name}" if "/" in name else None,
        "description": "; ".join(facts) + ".",
        "license": row["license"],
        "released": row["released"],
        "signals": {"likes": row["likes"]} if row["likes"] is not None else {},
        "derived_from": derived,
        "capabilities": caps,
        "benchmarks": {k: v for k, v in (row["benchmarks"] or {}).items() if v is not None},
    }


def _read_csv_catalog(
    path: Path, rejects: Rejects, limits: ReadLimits, columns: tuple[str, ...],
    clean: Callable[[pl.DataFrame], pl.DataFrame], record: Callable[[dict[str, Any]], dict[str, Any]],
) -> tuple[list[Artifact], int]:
    """The loop both CSV adapters share: typed columns, one record per row, CSV line numbers."""
    items, source = _read_csv(path, columns, limits)
    typed = iter(zip(clean(source).iter_rows(named=True), source.iter_rows(named=True), strict=True))

    def records() -> Iterator[Item]:
        for item in items:
            if item.problem:
                yield item
                continue
            row, original = next(typed)
            yield _guarded(item.number, dump(original), partial(record, row))

    return collect(records(), str(path), rejects, limits)


def leaderboard_table(path: Path, limits: ReadLimits = DEFAULT_LIMITS) -> pl.DataFrame:
    """The typed columns :func:`read_open_llm_leaderboard` builds its records from, one row per CSV row.

    Public for the sample builder, which takes facts the native format has no field for (parameter
    count, architecture, leaderboard score, model category, the base model's name as written) from
    the same parse as the records.
    """
    return _leaderboard_frame(_read_csv(path, _LEADERBOARD_COLUMNS, limits)[1])


def read_open_llm_leaderboard(path: Path, rejects: Rejects,
                              limits: ReadLimits = DEFAULT_LIMITS) -> tuple[list[Artifact], int]:
    """The Open LLM Leaderboard v2 CSV; record numbers are the CSV lines the rows start on."""
    return _read_csv_catalog(path, rejects, limits, _LEADERBOARD_COLUMNS, _leaderboard_frame, _leaderboard_record)


# --------------------------------------------------------------------------------------------
# best-of-ml-python: Python ML projects and the frameworks they build on
# --------------------------------------------------------------------------------------------

_BEST_OF_COLUMNS = (
    "name", "github_id", "category", "labels", "license", "star_count", "fork_count", "contributor_count",
    "pypi_monthly_downloads", "dependent_project_count", "created_at", "description",
)
_FRAMEWORK_CATEGORIES = frozenset({"ml-frameworks"})

# label -> the id the framework's own project row gets from this adapter (slugify of its name).
_LABEL_TARGET = {
    "pytorch": "pytorch", "tensorflow": "tensorflow", "jax": "jax", "huggingface": "transformers",
    "sklearn": "scikit-learn", "keras": "keras", "spark": "pyspark", "paddle": "paddlepaddle", "mxnet": "mxnet",
    "xgboost": "xgboost", "spacy": "spacy", "pandas": "pandas", "jupyter": "jupyter",
}
_NOT_A_FRAMEWORK = frozenset({"others"})

_CATEGORIES = {
    "nlp": "Natural language processing", "image": "Computer vision", "ml-frameworks": "Model training framework",
    "data-viz": "Data visualization", "interpretability": "Model interpretability",
    "hyperopt": "Hyperparameter optimization", "ml-experiments": "Experiment tracking", "graph": "Graph learning",
    "distributed-ml": "Distributed training", "time-series-data": "Time series", "audio": "Audio processing",
    "reinforcement-learning": "Reinforcement learning", "model-serialisation": "Model export and serving",
    "nn-search": "Vector similarity search", "ocr": "Optical character recognition",
    "recommender-systems": "Recommendation", "others": "Developer tooling",
}


def _best_of_frame(frame: pl.DataFrame) -> pl.DataFrame:
    github_id = _text("github_id")
    listed = pl.when(github_id.is_not_null()).then(pl.lit("https://github.com/") + github_id)
    current = _text("github_url") if "github_url" in frame.columns else pl.lit(None, pl.String)
    return frame.select(
        _text("name").alias("name"),
        github_id.alias("github_id"),
        pl.when(current.str.starts_with("https://")).then(current).otherwise(listed).alias("url"),
        github_id.str.split("/").list.first().alias("owner"),
        _text("category").alias("category"),
        pl.col("labels").str.extract_all(r"[\w.-]+").fill_null([]).alias("labels"),
        _text("license").alias("license"),
        _text("description").alias("description"),
        _date("created_at").alias("released"),
        _number("star_count").alias("stars"),
        _number("fork_count").alias("forks"),
        _number("contributor_count").alias("contributors"),
        _number("pypi_monthly_downloads").alias("downloads"),
        _number("dependent_project_count").alias("dependents"),
    )


def _best_of_record(row: dict[str, Any]) -> dict[str, Any]:
    art_id = slugify(row["name"] or "")
    targets = [_LABEL_TARGET.get(label, slugify(label)) for label in row["labels"] if label not in _NOT_A_FRAMEWORK]
    category: str | None = row["category"]
    caps = []
    if category:
        cap_name = _CATEGORIES.get(category, category.replace("-", " ").capitalize())
        caps.append(_capability(cap_name, f"Listed by best-of-ml-python under {category}.",
                                ["best-of-ml", category]))
    signals = {k: row[k] for k in ("stars", "forks", "contributors", "downloads", "dependents") if row[k] is not None}
    return {
        "id": art_id,
        "name": row["name"] or "",
        "type": "framework" if category in _FRAMEWORK_CATEGORIES else "repo",
        "provider": row["owner"],
        "pricing": "free",
        "url": row["url"],
        "description": row["description"],
        "license": row["license"],
        "released": row["released"],
        "signals": signals,
        "integrates_with": [t for t in dict.fromkeys(targets) if t and t != art_id],
        "capabilities": caps,
    }


def read_best_of_ml(path: Path, rejects: Rejects, limits: ReadLimits = DEFAULT_LIMITS) -> tuple[list[Artifact], int]:
    """best-of-ml-python's project table; record numbers are the CSV lines the rows start on."""
    return _read_csv_catalog(path, rejects, limits, _BEST_OF_COLUMNS, _best_of_frame, _best_of_record)


ADAPTERS: dict[str, Callable[[Path, Rejects, ReadLimits], tuple[list[Artifact], int]]] = {
    "litellm": read_litellm,
    "open-llm-leaderboard": read_open_llm_leaderboard,
    "best-of-ml": read_best_of_ml,
}
"""Catalog formats read by an adapter, by the name ``--format`` takes."""


def detect_adapter(start: bytes) -> str | None:
    """The adapter whose file starts like ``start`` (the first bytes of a file), or None.

    Only unambiguous signs count: the litellm table is one JSON object whose first line is ``{``
    alone (a JSON-lines catalog has a whole record there); the CSVs by their distinctive header columns.
    """
    text = start.lstrip()
    first_line = text.split(b"\n", 1)[0].strip()
    if first_line == b"{" and b'"litellm_provider"' in text:
        return "litellm"
    header = set(first_line.decode("utf-8", "replace").replace('"', "").split(","))
    if {"model_name", "metadata_base_model", "metadata_hub_hearts"} <= header:
        return "open-llm-leaderboard"
    if {"github_id", "star_count", "pypi_monthly_downloads"} <= header:
        return "best-of-ml"
    return None
