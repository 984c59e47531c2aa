"""The catalog adapters against the real public files in ``../shared/data/catalogs``.

Expected values are read from the files here with ``json`` / ``csv``, independently of the adapters'
polars code, and compared field by field with what landed in the store.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from graph.embedded import EmbeddedStore
from graph.schema import slugify
from graph.settings import Settings
from graph.tables import Table
from ingest.adapters import ADAPTERS, read_best_of_ml, read_litellm, read_open_llm_leaderboard
from ingest.catalog import detect_catalog_format
from ingest.pipeline import IngestReport, ingest_catalogs
from ingest.rejects import Rejects

CATALOGS = Path(__file__).resolve().parents[3] / "shared" / "data" / "catalogs"
LITELLM = CATALOGS / "litellm_model_prices_and_context_window.json"
LEADERBOARD = CATALOGS / "open_llm_leaderboard_v2.csv"
BEST_OF = CATALOGS / "best_of_ml_python_projects_2025-06-26.csv"

pytestmark = pytest.mark.skipif(not CATALOGS.is_dir(), reason=f"public catalogs not found at {CATALOGS}")


def _ingest(store: EmbeddedStore, settings: Settings, path: Path, fmt: str) -> IngestReport:
    report = ingest_catalogs(store, [path], settings, fmt=fmt)
    assert report.read == report.ingested + report.rejected
    return report


def _artifact(store: EmbeddedStore, art_id: str) -> dict[str, Any]:
    rows = store.table(Table.ARTIFACTS).filter(pl.col("id") == art_id).to_dicts()
    assert len(rows) == 1, f"{art_id} not in the store"
    return rows[0]


def _edges(store: EmbeddedStore, table: Table, src: str) -> set[str]:
    return set(store.table(table).filter(pl.col("src") == src).get_column("dst").to_list())


def _capabilities(store: EmbeddedStore, art_id: str) -> set[str]:
    has = store.table(Table.HAS_CAPABILITY).filter(pl.col("artifact") == art_id)
    names = store.table(Table.CAPABILITIES).join(has, left_on="id", right_on="capability")
    return set(names.get_column("name").to_list())


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_every_adapter_file_is_detected() -> None:
    assert detect_catalog_format(LITELLM) == "litellm"
    assert detect_catalog_format(LEADERBOARD) == "open-llm-leaderboard"
    assert detect_catalog_format(BEST_OF) == "best-of-ml"
    assert set(ADAPTERS) == {"litellm", "open-llm-leaderboard", "best-of-ml"}


def test_litellm(embedded: EmbeddedStore, settings: Settings) -> None:
    table = json.loads(LITELLM.read_text(encoding="utf-8"))
    models = {k: v for k, v in table.items() if k != "sample_spec"}
    report = _ingest(embedded, settings, LITELLM, "litellm")
    assert report.read == len(models)
    distinct_ids = len({slugify(k) for k in models})
    assert report.ingested == distinct_ids
    assert report.rejected == len(models) - distinct_ids  # only duplicate ids are rejected
    assert report.rejects_path is not None
    reasons = [json.loads(line)["reason"] for line in report.rejects_path.read_text().splitlines()]
    assert all(r.startswith("duplicate id") for r in reasons)

    spec = models["gpt-4o"]
    gpt = _artifact(embedded, "gpt-4o")
    assert gpt["name"] == "gpt-4o"
    assert gpt["type"] == "model"
    assert gpt["provider"] == "openai"  # provider node id; the node's name is the readable one
    assert gpt["pricing"] == "paid"
    assert gpt["price_input"] == pytest.approx(spec["input_cost_per_token"] * 1e6)
    assert gpt["price_output"] == pytest.approx(spec["output_cost_per_token"] * 1e6)
    assert gpt["url"] == spec["source"]
    assert gpt["catalogued"] is True
    assert f"{spec['max_input_tokens']:,}" in gpt["description"]
    providers = embedded.table(Table.PROVIDERS).filter(pl.col("id") == "openai").to_dicts()
    assert providers == [{"id": "openai", "name": "OpenAI"}]
    caps = _capabilities(embedded, "gpt-4o")
    assert {"Chat completion", "Function calling", "Image input"} <= caps
    flags = {k for k, v in spec.items() if k.startswith("supports_") and v is True}
    assert len(caps) == len(flags) + 1  # one per true flag, plus the mode

    key = "anthropic/claude-3-5-sonnet" if "anthropic/claude-3-5-sonnet" in models else "claude-3-5-sonnet-20240620"
    if key in models:
        claude = _artifact(embedded, slugify(key))
        assert claude["name"] == key
        assert claude["price_input"] == pytest.approx(models[key]["input_cost_per_token"] * 1e6)

    embedding = _artifact(embedded, "text-embedding-3-small")
    assert "Text embeddings" in _capabilities(embedded, "text-embedding-3-small")
    assert embedding["price_input"] == pytest.approx(models["text-embedding-3-small"]["input_cost_per_token"] * 1e6)


def test_open_llm_leaderboard(embedded: EmbeddedStore, settings: Settings) -> None:
    rows = _csv_rows(LEADERBOARD)
    report = _ingest(embedded, settings, LEADERBOARD, "open-llm-leaderboard")
    assert report.read == len(rows)
    assert report.ingested == len({slugify(r["model_name"]) for r in rows})
    assert report.ingested > 0.95 * len(rows)

    # A fine-tune whose base model is another model: its first row in the file is the one kept.
    row = next(r for r in rows if r["metadata_base_model"] == "Qwen/Qwen2.5-0.5B"
               and r["model_name"] != "Qwen/Qwen2.5-0.5B")
    art_id = slugify(row["model_name"])
    model = _artifact(embedded, art_id)
    assert model["name"] == row["model_name"]
    assert model["type"] == "finetune"
    assert model["provider"] == slugify(row["model_name"].split("/")[0])
    assert model["likes"] == float(row["metadata_hub_hearts"])
    assert model["released"] == date.fromisoformat(row["metadata_upload_date"][:10])
    assert model["license"] == (row["metadata_hub_license"] or None)
    assert model["pricing"] == "free"
    assert _edges(embedded, Table.DERIVED_FROM, art_id) == {"qwen-qwen2.5-0.5b"}
    assert _artifact(embedded, "qwen-qwen2.5-0.5b")["catalogued"] is True

    # A model that is its own base is a plain model with no lineage edge.
    own = next(r for r in rows if r["metadata_base_model"] == r["model_name"]
               and r["features_is_merged"].upper() == "FALSE" and r["model_type"] != "basemergesandmoerges")
    assert _artifact(embedded, slugify(own["model_name"]))["type"] == "model"
    assert _edges(embedded, Table.DERIVED_FROM, slugify(own["model_name"])) == set()

    # The README's 3,331 "other" bases include 571 "Removed" and merges naming themselves "<name> (Merge)".
    seen: set[str] = set()
    lineage = 0
    for r in rows:
        art = slugify(r["model_name"])
        base = r["metadata_base_model"].strip().removesuffix(" (Merge)")
        if art not in seen and base not in ("", "Removed") and slugify(base) != art:
            lineage += 1
        seen.add(art)
    assert embedded.table(Table.DERIVED_FROM).height == lineage > 500


def test_best_of_ml(embedded: EmbeddedStore, settings: Settings) -> None:
    rows = {r["github_id"]: r for r in _csv_rows(BEST_OF)}
    report = _ingest(embedded, settings, BEST_OF, "best-of-ml")
    assert report.read == 923
    assert report.ingested == 923
    assert report.rejected == 0

    for github_id, art_id in (("pytorch/pytorch", "pytorch"), ("huggingface/transformers", "transformers")):
        row = rows[github_id]
        art = _artifact(embedded, art_id)
        assert art["name"] == row["name"]
        assert art["stars"] == float(row["star_count"])
        assert art["forks"] == float(row["fork_count"])
        assert art["contributors"] == float(row["contributor_count"])
        assert art["downloads"] == float(row["pypi_monthly_downloads"])
        assert art["dependents"] == float(row["dependent_project_count"])
        assert art["released"] == date.fromisoformat(row["created_at"][:10])
        assert art["url"] == f"https://github.com/{github_id}"
        assert art["license"] == row["license"]
        assert art["description"] == row["description"]
        assert art["provider"] == slugify(github_id.split("/")[0])
    assert _artifact(embedded, "pytorch")["type"] == "framework"
    assert _artifact(embedded, "transformers")["type"] == "repo"  # category nlp

    labelled = next(r for r in rows.values() if "'huggingface'" in (r["labels"] or ""))
    assert "transformers" in _edges(embedded, Table.INTEGRATES_WITH, slugify(labelled["name"]))
    torch_users = [r for r in _csv_rows(BEST_OF) if "'pytorch'" in r["labels"] and r["github_id"] != "pytorch/pytorch"]
    into_torch = embedded.table(Table.INTEGRATES_WITH).filter(pl.col("dst") == "pytorch")
    assert into_torch.height == len(torch_users)


def test_litellm_text_completion_routes_belong_to_their_host() -> None:
    table = json.loads(LITELLM.read_text(encoding="utf-8"))
    routes = [k for k, v in table.items()
              if isinstance(v, dict) and v.get("litellm_provider") == "text-completion-codestral"]
    assert routes
    by_name = {a.name: a for a in read_litellm(LITELLM, Rejects())[0]}
    assert {by_name[k].provider for k in routes} == {"Mistral AI"}
    assert by_name["mistral/codestral-latest"].provider == "Mistral AI"


def test_open_llm_leaderboard_merges_and_flags_over_every_row_of_a_model() -> None:
    """The leaderboard's "base merges and moerges" category marks a merge even when the merged flag
    is false; a model evaluated once with and once without its chat template ships one."""
    rows = _csv_rows(LEADERBOARD)
    by_id = {a.id: a for a in read_open_llm_leaderboard(LEADERBOARD, Rejects())[0]}

    def caps(art_id: str) -> set[str]:
        return {c.name for c in by_id[art_id].capabilities}

    merge = next(r for r in rows if r["model_type"] == "basemergesandmoerges"
                 and r["features_is_merged"].upper() == "FALSE" and r["metadata_base_model"] == r["model_name"])
    assert by_id[slugify(merge["model_name"])].type.value == "finetune"
    assert by_id[slugify(merge["model_name"])].derived_from == []
    assert "Model merging" in caps(slugify(merge["model_name"]))

    phi = [r for r in rows if r["model_name"] == "microsoft/phi-4"]
    assert [r["model_has_chat_template"].upper() for r in phi] == ["FALSE", "TRUE"]  # the first row says no
    assert "Chat template" in caps("microsoft-phi-4")

    chat: dict[str, bool] = {}
    merged: dict[str, bool] = {}
    for r in rows:
        key = r["model_name"].lower()
        chat[key] = chat.get(key, False) or r["model_has_chat_template"].upper() == "TRUE"
        merged[key] = (merged.get(key, False) or r["features_is_merged"].upper() == "TRUE"
                       or r["model_type"] == "basemergesandmoerges")
    for art in by_id.values():
        assert ("Chat template" in caps(art.id)) == chat[art.name.lower()], art.id
        assert ("Model merging" in caps(art.id)) == merged[art.name.lower()], art.id
    assert sum(merged.values()) > sum(r["features_is_merged"].upper() == "TRUE" for r in rows)


def test_best_of_ml_links_where_the_project_lives_now() -> None:
    rows = _csv_rows(BEST_OF)
    by_name = {a.name: a for a in read_best_of_ml(BEST_OF, Rejects())[0]}
    assert by_name["jax"].url == "https://github.com/jax-ml/jax"  # listed as google/jax
    moved = [r for r in rows if r["github_url"] and r["github_url"] != f"https://github.com/{r['github_id']}"]
    assert len(moved) > 50
    for r in rows:
        expected = r["github_url"] or f"https://github.com/{r['github_id']}"
        assert by_name[r["name"]].url == expected, r["name"]


def test_best_of_ml_rejects_bad_rows_with_their_line(tmp_path: Path) -> None:
    lines = BEST_OF.read_text(encoding="utf-8").splitlines(keepends=True)
    header, first = lines[0], next(r for r in _csv_rows(BEST_OF))
    bad = dict(first, name="", github_id="someone/nameless")
    negative = dict(first, name="Negative Stars", star_count="-5")
    path = tmp_path / "best_of.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(header)
        writer = csv.DictWriter(f, fieldnames=list(first))
        writer.writerows([first, bad, negative, first])
    rejects = Rejects()
    artifacts, read = read_best_of_ml(path, rejects)
    assert read == 4
    assert [a.id for a in artifacts] == [slugify(first["name"])]
    assert [(r.line, r.reason.split(":")[0]) for r in rejects.items] == [
        (3, "id"), (4, "signals.stars"), (5, "duplicate id"),
    ]
