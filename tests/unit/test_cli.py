"""The CLI end to end on the shipped samples, as a user runs it (a subprocess per command)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from ingest import sample_files

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sample_files()


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    env["MATCHGRAPH_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "api.cli", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300, check=False)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    home = tmp_path_factory.mktemp("cli") / "home"
    return home, run(home, "demo")


@pytest.fixture(scope="module")
def listed() -> pl.DataFrame:
    """Independent of matchgraph: how often each id is listed in the sample log."""
    searches = pl.read_ndjson(SAMPLES.searches)
    return searches.select(pl.col("results").list.unique()).explode("results").group_by("results").len()


def times_listed(listed: pl.DataFrame, artifact: str) -> int:
    return int(listed.filter(pl.col("results") == artifact).get_column("len").item())


def test_demo_prints_the_seed_comparison(demo: tuple[Path, subprocess.CompletedProcess[str]],
                                         listed: pl.DataFrame) -> None:
    _, result = demo
    assert result.returncode == 0, result.stderr
    page = result.stdout
    assert page.startswith("# dalle-3-xl-lora-v2 vs FLUX.1 Pro\n")
    assert "| Type | Model | Model |" in page
    assert "| Pricing | Free | Free |" in page
    assert "| Capabilities | 6 decomposed | 13 decomposed |" in page
    dalle, flux = times_listed(listed, "dalle-3-xl-lora-v2"), times_listed(listed, "flux-1-pro")
    assert f"| Times Matched | {dalle} | {flux} |" in page
    assert "+5 more capabilities" in page
    assert "## Verdict" in page
    assert "## Need something different?" in page
    assert "ingested 25000, rejected 0" in result.stderr
    assert "read 216, ingested 216" in result.stderr


def test_show_json(demo: tuple[Path, subprocess.CompletedProcess[str]], listed: pl.DataFrame) -> None:
    home, _ = demo
    result = run(home, "show", "flux-1-pro", "--json", "--explain", "--history")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["id"] == "flux-1-pro"
    assert data["name"] == "FLUX.1 Pro"
    assert data["type"] == "model"
    assert data["pricing"] == "free"
    assert data["capabilities_count"] == 13
    assert len(data["capabilities"]) == 13
    assert data["times_matched"] == times_listed(listed, "flux-1-pro")
    assert set(data["scores"]) == {"adoption", "quality", "ecosystem", "match_graph", "freshness"}
    assert all(0 <= v <= 100 for v in data["scores"].values())
    contributions = sum(p["contribution"] for p in data["explain"]["parts"].values())
    assert round(contributions) == data["rank"]
    assert data["history"]["items"][-1]["rank"] == data["rank"]


def test_top_and_search_and_alternatives(demo: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    home, _ = demo
    top = json.loads(run(home, "top", "--type", "model", "--limit", "5", "--json").stdout)["items"]
    assert len(top) == 5
    assert {r["type"] for r in top} == {"model"}
    assert [r["rank"] for r in top] == sorted((r["rank"] for r in top), reverse=True)
    hits = json.loads(run(home, "search", "flux", "--json").stdout)["items"]
    assert "flux-1-pro" in [h["id"] for h in hits[:5]]
    alts = json.loads(run(home, "alternatives", "flux-1-pro", "--json").stdout)["items"]
    assert alts
    assert all(a["id"] != "flux-1-pro" for a in alts)
    assert alts[0]["co_matched"] > 0


def test_compare_json(demo: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    home, _ = demo
    result = run(home, "compare", "dalle-3-xl-lora-v2", "flux-1-pro", "--format", "json")
    data = json.loads(result.stdout)
    assert {"a", "b", "winner", "headline", "verdict", "alternatives"} <= set(data)
    ranks = {data["a"]["id"]: data["a"]["rank"], data["b"]["id"]: data["b"]["rank"]}
    if data["winner"] is not None:
        loser = next(i for i in ranks if i != data["winner"])
        assert ranks[data["winner"]] > ranks[loser]
        assert data["headline"].startswith(f"{'FLUX.1 Pro' if data['winner'] == 'flux-1-pro' else 'dalle'}")


def test_unknown_id_is_one_line_with_suggestions(demo: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    home, _ = demo
    result = run(home, "show", "flux-1-prp")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "no artifact with id 'flux-1-prp'" in lines[0]
    assert "flux-1-pro" in lines[0]
    compare = run(home, "compare", "flux-1-pro", "nothing-like-this")
    assert compare.returncode == 2
    assert "Traceback" not in compare.stderr


def test_rerunning_the_demo_changes_nothing(demo: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    home, first = demo
    again = run(home, "demo")
    assert again.returncode == 0
    assert again.stdout == first.stdout
    assert "1 file(s) skipped as already ingested" in again.stderr


def test_bad_log_exits_non_zero_only_when_nothing_is_valid(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{broken\n")
    result = run(tmp_path / "home", "ingest", "logs", str(bad))
    assert result.returncode == 2
    assert "nothing valid" in result.stderr
    assert "Traceback" not in result.stderr
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text('{broken\n{"search_id": "a", "ts": "2026-01-01T00:00:00Z", "query": "q", "results": ["x"]}\n')
    ok = run(tmp_path / "home", "ingest", "logs", str(mixed), "--json")
    assert ok.returncode == 0
    report = json.loads(ok.stdout)
    assert (report["read"], report["ingested"], report["rejected"]) == (2, 1, 1)
    rejects = [json.loads(line) for line in Path(report["rejects"]).read_text().splitlines()]
    assert rejects[0]["line"] == 1
    assert rejects[0]["source"] == str(mixed)


# -- issue 14: what a user reads at 80 columns, and the states before anything is ranked ----------
def test_tables_never_cut_an_id_at_80_columns(demo: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    home, _ = demo
    env_columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "80"
    try:
        top = run(home, "top", "--limit", "20")
        alts = run(home, "alternatives", "flux-1-pro", "--limit", "5")
    finally:
        if env_columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = env_columns
    expected = json.loads(run(home, "top", "--limit", "20", "--json").stdout)["items"]
    for result, ids in ((top, [x["id"] for x in expected]),
                        (alts, [x["id"] for x in json.loads(run(home, "alternatives", "flux-1-pro", "--json")
                                                            .stdout)["items"]])):
        assert result.returncode == 0, result.stderr
        assert max(len(line) for line in result.stdout.splitlines()) <= 80
        for artifact in ids:
            assert f" {artifact} " in result.stdout, artifact  # whole, on one line
    assert "…" not in top.stdout
    tied = [x for x in expected if x["tied"]]
    assert ("=: tied" in top.stdout) == bool(tied)


def test_compare_json_carries_the_head_to_head(demo: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    home, _ = demo
    page = json.loads(run(home, "compare", "dalle-3-xl-lora-v2", "flux-1-pro", "--json").stdout)
    pair = page["head_to_head"]
    assert pair["shown_together"] > 0
    assert pair["a_over_b"] + pair["b_over_a"] > 0
    assert 0 < pair["probability"] < 1
    assert pair["interval"][0] < pair["probability"] < pair["interval"][1]
    assert "synthetic sample logs" in pair["sentence"]
    markdown = run(home, "compare", "dalle-3-xl-lora-v2", "flux-1-pro").stdout
    assert markdown.index("## Verdict") < markdown.index("## Head to head") < markdown.index("Capabilities\n")
    assert "| Starting Price | Free | Free |" in markdown


def test_before_anything_is_ranked_the_cli_says_why(tmp_path: Path) -> None:
    home = tmp_path / "home"
    fresh = run(home, "top")
    assert fresh.returncode != 0
    assert "no matchgraph store at" in fresh.stderr
    assert not (home / "embedded").exists(), "a read never creates a store"
    assert run(home, "ingest", "catalog", str(SAMPLES.catalog)).returncode == 0
    unscored = run(home, "top")
    assert "nothing is ranked yet: run `matchgraph score`" in unscored.stderr
    assert run(home, "score", "--as-of", "2026-02-01").returncode == 0
    ranked = run(home, "top", "--limit", "3", "--json")
    assert all(item["standing"]["ranked"] for item in json.loads(ranked.stdout)["items"])
    shown = run(home, "show", "gpt-4o")
    assert "rank not ranked (15% of the weight has evidence)" in shown.stdout
    assert "adoption - | quality - |" in shown.stdout


def test_batch_commands_keep_freed_memory_and_skip_the_search_libraries(
        demo: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    """``score`` (like ingest and nightly) sets polars' allocator to keep freed pages before polars
    loads, never overrides an operator's own setting, and a write never loads BM25."""
    home, _ = demo
    probe = ("import os, sys\nfrom pathlib import Path\nfrom api import cli\n"
             "with cli._app(Path(sys.argv[1]), reading=True, batch=True) as mg:\n"
             "    report = mg.score()\n"
             "print(os.environ.get('_RJEM_MALLOC_CONF'), 'bm25s' in sys.modules, report.artifacts)\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "_RJEM"))}
    for given, expected in ((None, "dirty_decay_ms:10000,muzzy_decay_ms:10000"), ("narenas:1", "narenas:1")):
        if given:
            env["_RJEM_MALLOC_CONF"] = given
        out = subprocess.run([sys.executable, "-c", probe, str(home)], capture_output=True, text=True, env=env,
                             cwd=ROOT, timeout=300, check=True).stdout.split()
        # polars puts its own defaults first; the last setting of a key wins
        assert out[0].endswith("," + expected)
        assert out[1] == "False"
        assert int(out[2]) > 200  # the samples' artifacts were scored
