"""The shipped sample files: valid, real, attributed, and exactly what ``scripts/build_samples.py`` builds."""

from __future__ import annotations

import gzip
import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import polars as pl
import pytest
from pydantic import TypeAdapter

from graph.schema import Artifact
from ingest import sample_files
from ingest.adapters import read_best_of_ml, read_open_llm_leaderboard
from ingest.logs import NativeSearch
from ingest.rejects import Rejects

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
CATALOG, SEARCHES, README = sample_files().catalog, sample_files().searches, sample_files().readme
needs_shared = pytest.mark.skipif(not (SHARED / "data" / "catalogs").is_dir(), reason="../shared/data is not available")


def _builder() -> ModuleType:
    """``scripts/build_samples.py``, loaded from its file: scripts/ is a folder of programs, not a package."""
    spec = importlib.util.spec_from_file_location("build_samples", ROOT / "scripts" / "build_samples.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CATALOG.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def by_id(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in records}


@pytest.fixture(scope="module")
def searches() -> pl.DataFrame:
    return pl.read_ndjson(gzip.decompress(SEARCHES.read_bytes()))


def test_every_catalog_line_is_a_valid_artifact(records: list[dict[str, Any]]) -> None:
    artifacts = [Artifact.model_validate(r) for r in records]
    assert len(artifacts) >= 150
    assert len({a.id for a in artifacts}) == len(artifacts)
    types = Counter(a.type.value for a in artifacts)
    assert len(types) >= 6
    assert {"model", "finetune", "framework", "repo", "api"} <= set(types)


def test_descriptions_are_present_everywhere(records: list[dict[str, Any]]) -> None:
    assert all(r.get("description", "").strip() for r in records)
    assert all(c["name"].strip() and c.get("description", "").strip() for r in records for c in r["capabilities"])
    assert all(r["capabilities"] for r in records)


def test_dalle_lora_matches_the_seed_page(by_id: dict[str, dict[str, Any]]) -> None:
    dalle = by_id["dalle-3-xl-lora-v2"]
    assert (dalle["name"], dalle["type"], dalle["pricing"]) == ("dalle-3-xl-lora-v2", "model", "free")
    assert len(dalle["capabilities"]) == 6
    assert all(c["description"] and c["unique"] and c["vs_alternatives"] for c in dalle["capabilities"])
    assert dalle["derived_from"] == ["dall-e-3"]
    assert by_id["dall-e-3"]["provider"] == "OpenAI"


def test_flux_pro_matches_the_seed_page(by_id: dict[str, dict[str, Any]]) -> None:
    flux = by_id["flux-1-pro"]
    assert (flux["name"], flux["type"], flux["pricing"]) == ("FLUX.1 Pro", "model", "free")
    assert flux["provider"] == "Black Forest Labs"
    assert len(flux["capabilities"]) == 13
    assert len({c["name"] for c in flux["capabilities"]}) == 13
    assert all(c["description"] and c["unique"] and c["vs_alternatives"] for c in flux["capabilities"])
    assert by_id["flux-1-dev"]["derived_from"] == ["flux-1-pro"]


def test_seed_sentences_are_paraphrased_not_copied(by_id: dict[str, dict[str, Any]]) -> None:
    seed_page = next((SHARED / "seeds").glob("*.txt"), None) if (SHARED / "seeds").is_dir() else None
    if seed_page is None:
        pytest.skip("the seed page is not available next to the project")
    page = " ".join(seed_page.read_text(encoding="utf-8").lower().split())
    for art in ("dalle-3-xl-lora-v2", "flux-1-pro"):
        texts = [by_id[art]["description"]]
        texts += [c[k] for c in by_id[art]["capabilities"] for k in ("description", "unique", "vs_alternatives")]
        for text in texts:
            words = text.lower().split()
            # No run of six consecutive words appears verbatim on the seed page.
            copied = [" ".join(words[i : i + 6]) for i in range(len(words) - 5) if " ".join(words[i : i + 6]) in page]
            assert not copied, copied


def test_other_image_generators_exist_as_alternatives(records: list[dict[str, Any]]) -> None:
    image = {r["id"] for r in records if any("text-to-image" in c.get("tags", []) for c in r["capabilities"])}
    assert {"flux-1-pro", "dall-e-3", "dalle-3-xl-lora-v2", "stable-diffusion-3.5-large", "flux-1-dev"} <= image
    assert len(image) >= 12


def test_every_link_lands_on_a_catalogued_artifact(records: list[dict[str, Any]],
                                                  by_id: dict[str, dict[str, Any]]) -> None:
    links = [(r["id"], t) for r in records for key in ("derived_from", "integrates_with") for t in r.get(key, [])]
    assert all(t in by_id for _, t in links)
    children = Counter(b for r in records for b in r.get("derived_from", []))
    assert sum(children.values()) >= 30
    assert children["mistralai-mistral-7b-v0.1"] >= 3  # a base with several fine-tunes: real lineage
    integrations = Counter(t for r in records for t in r.get("integrates_with", []))
    assert integrations["pytorch"] >= 10
    assert integrations["tensorflow"] >= 5
    assert integrations["transformers"] >= 30
    assert all(by_id[t]["type"] == "framework" for t in ("pytorch", "tensorflow", "transformers"))


def test_facts_are_carried_over_from_the_sources(by_id: dict[str, dict[str, Any]]) -> None:
    gpt4o = by_id["gpt-4o"]
    assert (gpt4o["price_input"], gpt4o["price_output"], gpt4o["pricing"]) == (2.5, 10.0, "paid")
    assert "128k-token context" in gpt4o["description"]
    assert {"Function calling", "Image understanding"} <= {c["name"] for c in gpt4o["capabilities"]}
    llama = by_id["meta-llama-meta-llama-3-8b"]
    assert (llama["signals"]["likes"], llama["license"], llama["type"]) == (6093.0, "llama3", "model")
    zephyr = by_id["huggingfaceh4-zephyr-7b-beta"]
    assert (zephyr["type"], zephyr["derived_from"]) == ("finetune", ["mistralai-mistral-7b-v0.1"])
    torch = by_id["pytorch"]
    assert torch["signals"]["stars"] == 91042.0
    assert torch["url"] == "https://github.com/pytorch/pytorch"
    assert by_id["gpustat"]["type"] == "cli"
    assert by_id["ann-benchmarks"]["type"] == "benchmark"


def test_searches_are_valid_native_records(searches: pl.DataFrame) -> None:
    lines = gzip.decompress(SEARCHES.read_bytes()).splitlines()
    assert len(lines) == searches.height >= 20_000
    valid = TypeAdapter(list[NativeSearch]).validate_json(b"[" + b",".join(lines) + b"]")
    assert len(valid) == len(lines)
    assert searches["search_id"].n_unique() == searches.height
    assert all(line.decode().count('"ts":"2026-') == 1 for line in lines[:100])


def test_searches_only_list_catalogued_artifacts(searches: pl.DataFrame, by_id: dict[str, dict[str, Any]]) -> None:
    listed = set(searches.select(pl.col("results").explode())["results"])
    assert listed <= set(by_id)
    assert len(listed) >= 0.9 * len(by_id)
    stray = searches.select(pl.col("clicks").list.set_difference("results").list.len().sum()).item()
    assert stray == 0


def test_both_seed_artifacts_are_matched_and_flux_far_more(searches: pl.DataFrame) -> None:
    shown = searches.select(pl.col("results").explode()).group_by("results").len()
    counts = dict(zip(shown["results"], shown["len"], strict=True))
    assert counts["dalle-3-xl-lora-v2"] >= 20
    assert counts["flux-1-pro"] >= 3 * counts["dalle-3-xl-lora-v2"]
    clicks = searches.select(pl.col("clicks").explode()).drop_nulls()["clicks"].value_counts()
    clicked = dict(zip(clicks["clicks"], clicks["count"], strict=True))
    assert clicked["flux-1-pro"] > 10 * clicked.get("dalle-3-xl-lora-v2", 0)


def test_queries_read_like_real_searches(searches: pl.DataFrame) -> None:
    queries = set(searches["query"].unique())
    assert {"text to image api", "open source llm for coding", "flux vs dalle", "flux.1 pro"} <= queries
    coding = searches.filter(pl.col("query") == "open source llm for coding")
    top = coding.select(pl.col("results").list.first()).to_series().unique().to_list()
    assert all(t.startswith(("qwen-", "mistralai-codestral", "bigcode-", "oobabooga-")) for t in top)


def test_samples_stay_small() -> None:
    assert CATALOG.stat().st_size < 1_000_000
    assert SEARCHES.stat().st_size < 3_000_000


def test_readme_attributes_every_source() -> None:
    text = README.read_text(encoding="utf-8")
    for needle in ("python scripts/build_samples.py --shared ../shared --out ingest/samples", "litellm", "MIT",
                   "fboulnois/llm-leaderboard-csv", "MPL-2.0", "best-of-ml-python", "ml-tooling",
                   "CC-BY-SA-4.0", "synthetic", "`pytorch`", "`gpt-4o`", "`meta-llama-meta-llama-3-8b`"):
        assert needle in text, needle


@needs_shared
def test_committed_files_are_what_the_builder_writes(tmp_path: Path) -> None:
    written = _builder().write_samples(SHARED, tmp_path)
    assert [p.name for p in written] == [CATALOG.name, SEARCHES.name, README.name]
    for path in written:
        assert path.read_bytes() == (CATALOG.parent / path.name).read_bytes(), path.name


@needs_shared
def test_catalog_facts_are_the_adapters(by_id: dict[str, dict[str, Any]]) -> None:
    """The builder reads the public files only through ingest.adapters: where a sample record keeps
    an adapter's id, its facts are that adapter's (the sentences and the type are the builder's own)."""
    catalogs = SHARED / "data" / "catalogs"
    read = [*read_open_llm_leaderboard(catalogs / "open_llm_leaderboard_v2.csv", Rejects())[0],
            *read_best_of_ml(catalogs / "best_of_ml_python_projects_2025-06-26.csv", Rejects())[0]]
    checked = 0
    for art in read:
        if art.id not in by_id:
            continue
        record = Artifact.model_validate(by_id[art.id])
        for field in ("name", "provider", "pricing", "url", "license", "released", "derived_from"):
            assert getattr(record, field) == getattr(art, field), (art.id, field)
        signals = {k: v for k, v in art.signals.model_dump().items() if v is not None}
        assert {k: v for k, v in record.signals.model_dump().items() if v} == {k: v for k, v in signals.items() if v}
        checked += 1
    assert checked == len(by_id) - 2 - 74 - 5  # all but the seed pair, the litellm picks and five name-only bases
    assert by_id["jax"]["url"] == "https://github.com/jax-ml/jax"  # where the project lives now
    assert by_id["mistral-ocr"]["pricing"] == "paid"  # billed per page
