"""The capability graph: the offline embedding model, grouping, stable ids, intent links, boards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pytest

from api.application import MatchGraph
from graph.tables import Table, conform
from ingest.synth_needs import board_recovery, synth_needs, write_needs
from queries.capabilities import CapabilityConfig, group
from queries.embedding import encoder
from tests.fixtures import load_fixture

if TYPE_CHECKING:
    from graph.embedded import EmbeddedStore
    from graph.settings import Settings

ROOT = Path(__file__).resolve().parents[2]

OFFLINE = r"""
import json, socket, sys
def refuse(*args, **kwargs):
    raise OSError("network access attempted")
socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
from queries.embedding import encoder, package_files
vectors = encoder().encode(["Text-to-image generation", "text to image generation", "speech to text"])
loaded = sorted(m for m in ("wordllama", "requests", "huggingface_hub", "urllib3", "httpx") if m in sys.modules)
# the vectors are WordLlama's own: its inference code, fed the same packaged files, gives the same
from safetensors.numpy import load_file
from tokenizers import Tokenizer
from wordllama.inference import WordLlamaInference
weights, tokenizer = package_files()
reference = WordLlamaInference(load_file(str(weights))["embedding.weight"], Tokenizer.from_file(str(tokenizer)))
expected = reference.embed(["text to image generation", "speech to text"], norm=True)
print(json.dumps({"shape": list(vectors.shape), "norms": [float(x) for x in (vectors ** 2).sum(axis=1)],
                  "same": float(vectors[0] @ vectors[1]), "loaded": loaded,
                  "deviation": float(abs(vectors[1:] - expected).max())}))
"""


def test_the_model_loads_and_embeds_with_the_network_refused() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "HOME": "/nonexistent"}
    done = subprocess.run([sys.executable, "-c", OFFLINE], capture_output=True, text=True, env=env, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["shape"] == [3, 256]
    assert out["norms"] == pytest.approx([1.0, 1.0, 1.0], abs=1e-5)
    assert out["same"] == pytest.approx(1.0, abs=1e-6)  # case and punctuation do not matter
    assert out["loaded"] == []  # nothing that could download was even imported to embed
    assert out["deviation"] < 1e-6


def test_one_text_and_many_texts_embed_alike() -> None:
    model = encoder()
    texts = ["Draw pictures from a prompt", "FLUX.1 [dev] — Text-to-Image", "", "çà et là"]
    many = model.encode(texts)
    for text, row in zip(texts, many, strict=True):
        assert np.abs(model.encode_one(text) - row).max() < 1e-6
    assert not many[2].any()  # no words: the zero vector, similar to nothing


def _statements(names: list[tuple[str, str]], capability: list[str] | None = None) -> pl.DataFrame:
    rows = pl.DataFrame({"artifact": [a for a, _ in names], "name": [n for _, n in names]}).with_columns(
        pl.int_range(1, pl.len() + 1).over("artifact").cast(pl.Int64).alias("position"))
    ids = capability or [n.lower().replace(" ", "-") for _, n in names]
    return conform(Table.HAS_CAPABILITY, rows.with_columns(pl.Series("capability", ids))).with_columns(
        pl.lit(None, pl.List(pl.String)).alias("tags"))


NAMES = [
    ("dalle", "Text-to-image generation"), ("sdxl", "Text-to-image generation"), ("fixture", "Text to image"),
    ("flux", "Flow-matching text-to-image generation"), ("video", "Text-to-video generation"),
    ("whisper", "Speech-to-text"), ("tts", "Text-to-speech"), ("edit", "Image editing"),
    ("kontext", "Instruction-based image editing"), ("fill", "Inpainting"), ("flux", "Inpainting"),
]


def test_grouping_joins_what_agrees_in_meaning_and_wording_only() -> None:
    grouping = group(_statements(NAMES), CapabilityConfig())
    by_artifact = {(r["artifact"], r["position"]): r["capability"] for r in grouping.statements.iter_rows(named=True)}
    t2i = by_artifact[("dalle", 1)]
    assert {by_artifact[k] for k in (("sdxl", 1), ("fixture", 1), ("flux", 1))} == {t2i}
    # alike in words but not in meaning, or alike in meaning but with another word order: apart
    assert len({t2i, by_artifact[("video", 1)], by_artifact[("whisper", 1)], by_artifact[("tts", 1)]}) == 4
    assert by_artifact[("edit", 1)] == by_artifact[("kontext", 1)]
    assert by_artifact[("fill", 1)] == by_artifact[("flux", 2)] != t2i
    nodes = {r["id"]: r for r in grouping.capabilities.iter_rows(named=True)}
    assert nodes[t2i]["name"] == "Text-to-image generation"  # the most frequent statement name
    assert nodes[t2i]["aliases"] == ["Flow-matching text-to-image generation", "Text to image"]
    assert (nodes[t2i]["statements"], nodes[t2i]["artifacts"]) == (4, 4)
    assert len(nodes) == 6
    # every statement keeps its own name
    own = dict(zip(grouping.statements.get_column("artifact") + "/" + grouping.statements.get_column("position")
                   .cast(pl.String), grouping.statements.get_column("name"), strict=True))
    assert own["flux/1"] == "Flow-matching text-to-image generation"


def test_ids_survive_a_rerun_and_new_members() -> None:
    config = CapabilityConfig()
    first = group(_statements(NAMES), config)
    stored = first.statements.select("artifact", "position", "name", "capability")
    again = group(_statements(list(zip(stored.get_column("artifact"), stored.get_column("name"), strict=True)),
                              stored.get_column("capability").to_list()), config)
    assert again.statements.get_column("capability").to_list() == stored.get_column("capability").to_list()
    assert again.removed == []
    assert again.changed().height == 0
    # a catalog re-ingested later writes a provisional slug for a new member; the group keeps its id
    t2i = stored.filter(pl.col("artifact") == "dalle").get_column("capability").item()
    grown = [*zip(stored.get_column("artifact"), stored.get_column("name"), strict=True), ("new", "Text to image")]
    ids = [*stored.get_column("capability").to_list(), "text-to-image"]
    third = group(_statements(grown, ids), config)
    assert third.statements.filter(pl.col("artifact") == "new").get_column("capability").item() == t2i
    assert third.removed == ["text-to-image"]
    assert third.changed().get_column("artifact").unique().to_list() == ["new"]
    # a statement stored before statements kept their own name is written again, with it
    legacy = _statements(list(zip(stored.get_column("artifact"), stored.get_column("name"), strict=True)),
                         stored.get_column("capability").to_list()).with_columns(
        pl.when(pl.col("artifact") == "tts").then(None).otherwise(pl.col("name")).alias("stored_name"))
    rewritten = group(legacy, config).changed()
    assert rewritten.select("artifact", "name").rows() == [("tts", "Text-to-speech")]
    # the first run's ids are the slugs most statements had
    assert t2i == "text-to-image-generation"
    assert first.removed == sorted({"text-to-image", "flow-matching-text-to-image-generation",
                                    "instruction-based-image-editing"})


def test_scoring_links_intents_and_fits_boards(embedded: EmbeddedStore, tmp_path: Path, settings: Settings) -> None:
    load_fixture([embedded], tmp_path)
    mg = MatchGraph(settings, embedded)
    mg.score()
    caps = embedded.table(Table.CAPABILITIES).sort("id")
    assert caps.get_column("id").to_list() == ["inpainting", "text-to-image"]
    assert caps.filter(pl.col("id") == "text-to-image").select("statements", "artifacts").row(0) == (4, 4)
    seeks = embedded.table(Table.SEEKS, ["text to image"], by="intent").row(0, named=True)
    # two searches of "text to image", both chose flux-1-pro, which has the capability
    assert seeks["capability"] == "text-to-image"
    assert (seeks["chosen"], seeks["clicks"], seeks["similarity"]) == (2, 2, 1.0)
    k = CapabilityConfig().prior_clicks
    assert seeks["confidence"] == pytest.approx((k * 1.0 + 2) / (k + 2))
    board = embedded.table(Table.BOARDS, ["text-to-image"], by="need").sort("place")
    assert board.get_column("artifact").to_list()[0] == "flux-1-pro"  # chosen over dalle-3 twice
    assert sorted(board.get_column("artifact").to_list()) == ["dalle-3", "flux-1-dev", "flux-1-pro", "sdxl"]
    assert board.get_column("place").to_list() == [1, 2, 3, 4]
    scores = dict(embedded.table(Table.SCORES, columns=["id", "quality_rating"]).iter_rows())
    no_evidence = board.filter(pl.col("comparisons") == 0)
    for row in no_evidence.iter_rows(named=True):  # no evidence for the need: its overall rating
        assert row["rating"] == pytest.approx(scores[row["artifact"]], abs=1e-6)
        assert row["overall"] == pytest.approx(scores[row["artifact"]], abs=1e-6)
    # a second run changes nothing in the capability graph
    before = {t: embedded.table(t) for t in (Table.CAPABILITIES, Table.HAS_CAPABILITY, Table.SEEKS, Table.BOARDS)}
    mg.score()
    for table, frame in before.items():
        assert embedded.table(table).sort(frame.columns[:2]).equals(frame.sort(frame.columns[:2])), table


def test_boards_recover_each_needs_order_better_than_overall_quality(tmp_path: Path, settings: Settings) -> None:
    catalog, searches, truth = synth_needs(60, 8_000, seed=7, spread=1.0)
    catalog_path, logs_path = write_needs(tmp_path, catalog, searches)
    with MatchGraph(settings) as mg:
        mg.ingest_catalogs([catalog_path])
        mg.ingest_logs([logs_path])
        mg.score()
        found = board_recovery(mg.store, truth, min_comparisons=20)
    assert found.height >= 5
    assert found.get_column("board").mean() > found.get_column("overall").mean() + 0.1  # type: ignore[operator]
    assert (found.get_column("board") > found.get_column("overall")).sum() >= 0.8 * found.height


def test_a_catalog_ingested_after_grouping_is_provisional_until_the_next_run(
        embedded: EmbeddedStore, tmp_path: Path, settings: Settings) -> None:
    load_fixture([embedded], tmp_path)
    mg = MatchGraph(settings, embedded)
    mg.score()
    record = {"id": "imagen-4", "name": "Imagen 4", "type": "model",
              "capabilities": [{"name": "Text-to-image", "description": "Makes images."}]}
    (tmp_path / "more.jsonl").write_text(json.dumps(record) + "\n")
    mg.ingest_catalogs([tmp_path / "more.jsonl"])
    (cap,) = mg.read(lambda q: q.show("imagen-4")).capabilities
    assert (cap.id, cap.name, cap.own_name, cap.provisional) == ("text-to-image", "Text-to-image", "Text-to-image",
                                                               True)
    listed = {c.id: c for c in mg.read(lambda q: q.capabilities()).items}
    assert listed["text-to-image"].provisional
    mg.score()
    (cap,) = mg.read(lambda q: q.show("imagen-4")).capabilities
    assert (cap.id, cap.name, cap.own_name, cap.provisional) == ("text-to-image", "Text to image", "Text-to-image",
                                                               False)
    detail = mg.read(lambda q: q.capability("text-to-image"))
    assert detail.artifacts == 5
    assert "imagen-4" in {m.id for m in detail.members}
    assert [e.id for e in detail.board if e.id == "imagen-4"] == ["imagen-4"]  # on the board, at its prior
