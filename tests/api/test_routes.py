"""Every read route on the embedded store: status codes, bodies, pagination and error shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli import app as cli_app
from graph.embedded import EmbeddedStore
from queries.engine import QueryEngine
from tests.fixtures import snapshot_engine

PROBLEM = "application/problem+json"


def _engine(home: Path) -> QueryEngine:
    return snapshot_engine(home)


def _problem(response: object, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == PROBLEM  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert body["status"] == status
    assert str(body["type"]).startswith("urn:matchgraph:problem:")
    assert "Traceback" not in response.text  # type: ignore[attr-defined]
    return body


def test_health_and_ready(client: TestClient, sample_home: Path) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready").json()
    assert ready == {"status": "ready", "store": "embedded", "version": EmbeddedStore(sample_home).version()}


def test_artifact_is_the_engine_answer(client: TestClient, sample_home: Path) -> None:
    r = client.get("/v1/artifacts/flux-1-pro")
    assert r.status_code == 200
    body = r.json()
    assert body == _engine(sample_home).show("flux-1-pro").model_dump(mode="json")
    assert body["name"] == "FLUX.1 Pro"
    assert body["capabilities_count"] == 13 == len(body["capabilities"])
    assert body["times_matched"] > 1_000
    assert 0 <= body["rank"] <= 100
    assert set(body["scores"]) == {"adoption", "quality", "ecosystem", "match_graph", "freshness"}


def test_artifact_json_has_the_cli_field_names(client: TestClient, sample_home: Path) -> None:
    embedded_only = {"NEO4J_URI": ""}  # the CLI reads the sample home, whatever the environment says
    cli = CliRunner().invoke(cli_app, ["show", "flux-1-pro", "--json", "--home", str(sample_home)], env=embedded_only)
    assert cli.exit_code == 0, cli.output
    assert json.loads(cli.output) == client.get("/v1/artifacts/flux-1-pro").json()
    cli = CliRunner().invoke(cli_app, ["compare", "dalle-3-xl-lora-v2", "flux-1-pro", "--format", "json",
                                       "--home", str(sample_home)], env=embedded_only)
    assert cli.exit_code == 0, cli.output
    assert json.loads(cli.output) == client.get("/v1/compare/dalle-3-xl-lora-v2/flux-1-pro").json()


def test_unknown_artifact_is_a_404_with_suggestions(client: TestClient) -> None:
    body = _problem(client.get("/v1/artifacts/flux-1-prx"), 404)
    assert body["detail"] == "no artifact with id 'flux-1-prx'"
    assert body["instance"] == "/v1/artifacts/flux-1-prx"
    assert "flux-1-pro" in body["suggestions"]  # type: ignore[operator]
    assert _problem(client.get("/v1/compare/flux-1-pro/nope-nope"), 404)["detail"] == "no artifact with id 'nope-nope'"
    assert _problem(client.get("/v1/no/such/route"), 404)["detail"] == "no such page or endpoint: /v1/no/such/route"


def test_compare(client: TestClient, sample_home: Path) -> None:
    body = client.get("/v1/compare/dalle-3-xl-lora-v2/flux-1-pro").json()
    expected = _engine(sample_home).compare("dalle-3-xl-lora-v2", "flux-1-pro")
    assert body == expected.model_dump(mode="json")
    assert body["winner"] == "flux-1-pro"
    assert body["headline"].startswith("FLUX.1 Pro ranks higher")
    assert {a["id"] for a in body["alternatives"]}.isdisjoint({"dalle-3-xl-lora-v2", "flux-1-pro"})
    assert len(client.get("/v1/compare/dalle-3-xl-lora-v2/flux-1-pro?alternatives=2").json()["alternatives"]) == 2
    assert "different" in str(_problem(client.get("/v1/compare/flux-1-pro/FLUX-1-PRO"), 422)["detail"])
    _problem(client.get("/v1/compare/flux-1-pro/sdxl?alternatives=0"), 422)


def test_top_pages_without_overlap(client: TestClient, sample_home: Path) -> None:
    first = client.get("/v1/top?limit=5").json()
    second = client.get("/v1/top?limit=5&offset=5").json()
    both = client.get("/v1/top?limit=10").json()
    assert (first["offset"], first["limit"], first["next_offset"]) == (0, 5, 5)
    assert second["next_offset"] == 10
    assert [a["id"] for a in first["items"] + second["items"]] == [a["id"] for a in both["items"]]
    ranks = [a["rank"] for a in both["items"]]
    assert ranks == sorted(ranks, reverse=True)
    assert [a["id"] for a in both["items"]] == [a.id for a in _engine(sample_home).top(None, 10).items]
    models = client.get("/v1/top?type=framework&limit=50").json()["items"]
    assert models
    assert {a["type"] for a in models} == {"framework"}
    last = client.get(f"/v1/top?type=framework&limit=50&offset={len(models) - 1}").json()
    assert len(last["items"]) == 1
    assert last["next_offset"] is None


def test_bad_parameters_are_422_naming_the_field(client: TestClient) -> None:
    body = _problem(client.get("/v1/top?type=spaceship"), 422)
    assert body["errors"][0]["location"] == "query.type"  # type: ignore[index]
    assert _problem(client.get("/v1/top?limit=0"), 422)["errors"][0]["location"] == "query.limit"  # type: ignore[index]
    too_many = _problem(client.get("/v1/top?limit=201"), 422)
    assert too_many["errors"][0]["location"] == "query.limit"  # type: ignore[index]
    assert "less than or equal to 200" in str(too_many["detail"])
    assert len(client.get("/v1/top?limit=200").json()["items"]) == 200  # the documented bound is allowed
    assert "less than or equal to 10000" in str(_problem(client.get("/v1/top?offset=20000"), 422)["detail"])
    assert _problem(client.get("/v1/top?limit=abc"), 422)["errors"][0]["location"] == "query.limit"  # type: ignore[index]


def test_search(client: TestClient) -> None:
    page = client.get("/v1/search", params={"q": "image generation", "limit": 5}).json()
    hits = page["items"]
    assert len(hits) == 5
    assert page["next_offset"] == 5
    relevance = [h["relevance"] for h in hits]
    assert relevance == sorted(relevance, reverse=True)
    assert relevance[0] > 0
    following = client.get("/v1/search", params={"q": "image generation", "limit": 5, "offset": 5}).json()
    assert {h["id"] for h in hits}.isdisjoint({h["id"] for h in following["items"]})
    _problem(client.get("/v1/search"), 422)
    _problem(client.get("/v1/search", params={"q": " "}), 422)
    assert "at most 256 characters" in str(_problem(client.get("/v1/search", params={"q": "x" * 300}), 422)["detail"])
    assert client.get("/v1/search", params={"q": "zzqqxxnothing"}).json()["items"] == []


def test_alternatives(client: TestClient, sample_home: Path) -> None:
    page = client.get("/v1/artifacts/flux-1-pro/alternatives?limit=3").json()
    assert [a["id"] for a in page["items"]] == [a.id for a in _engine(sample_home).alternatives("flux-1-pro", 3).items]
    assert "flux-1-pro" not in {a["id"] for a in page["items"]}
    assert all(a["co_matched"] > 0 for a in page["items"])
    assert all(a["reason"].startswith("shown alongside FLUX.1 Pro in ") for a in page["items"])
    more = client.get("/v1/artifacts/flux-1-pro/alternatives?limit=3&offset=3").json()
    six = client.get("/v1/artifacts/flux-1-pro/alternatives?limit=6").json()
    assert [a["id"] for a in page["items"] + more["items"]] == [a["id"] for a in six["items"]]
    _problem(client.get("/v1/artifacts/flux-1-pro/alternatives?limit=201"), 422)


def test_neighborhood(client: TestClient, sample_home: Path) -> None:
    one = client.get("/v1/artifacts/flux-1-pro/neighborhood?depth=1&limit=10").json()
    assert one["center"] == "flux-1-pro"
    ids = {n["id"] for n in one["nodes"]}
    assert "flux-1-pro" in ids
    assert 2 <= len(ids) <= 10
    assert all(e["source"] in ids and e["target"] in ids for e in one["edges"])
    assert {n["depth"] for n in one["nodes"]} == {0, 1}
    assert one["edges"] == _engine(sample_home).neighborhood("flux-1-pro", 1, 10).model_dump()["edges"]
    two = client.get("/v1/artifacts/flux-1-pro/neighborhood?depth=2&limit=40").json()
    assert len(two["nodes"]) > len(one["nodes"])
    too_deep = _problem(client.get("/v1/artifacts/flux-1-pro/neighborhood?depth=4"), 422)
    assert "less than or equal to 3" in str(too_deep["detail"])
    assert "less than or equal to 100" in str(
        _problem(client.get("/v1/artifacts/flux-1-pro/neighborhood?limit=500"), 422)["detail"])
    _problem(client.get("/v1/artifacts/nope-nope/neighborhood"), 404)


def test_path(client: TestClient) -> None:
    body = client.get("/v1/path/dalle-3-xl-lora-v2/flux-1-pro").json()
    assert body["connected"] is True
    assert [n["id"] for n in body["nodes"]][0] == "dalle-3-xl-lora-v2"
    assert [n["id"] for n in body["nodes"]][-1] == "flux-1-pro"
    assert body["hops"] == len(body["steps"]) == len(body["nodes"]) - 1
    for step, (left, right) in zip(body["steps"], zip(body["nodes"], body["nodes"][1:], strict=False), strict=True):
        assert {step["source"], step["target"]} == {left["id"], right["id"]}
        assert step["type"] in {"CO_MATCHED", "DERIVED_FROM", "INTEGRATES_WITH"}
        assert step["weight"] > 0
    assert client.get("/v1/path/flux-1-pro/flux-1-pro").json()["hops"] == 0
    _problem(client.get("/v1/path/flux-1-pro/nope-nope"), 404)
    _problem(client.get("/v1/path/flux-1-pro/sdxl?max_depth=9"), 422)


def test_path_reports_no_connection_within_the_depth(client: TestClient, sample_home: Path) -> None:
    engine = _engine(sample_home)
    two_hops = next(a.id for a in engine.top(None, 200, 0).items
                    if (engine.path("flux-1-pro", a.id, 3).hops or 0) == 2)
    assert client.get(f"/v1/path/flux-1-pro/{two_hops}?max_depth=2").json()["hops"] == 2
    body = client.get(f"/v1/path/flux-1-pro/{two_hops}?max_depth=1").json()
    assert body["connected"] is False
    assert body["hops"] is None
    assert body["nodes"] == []
    assert body["steps"] == []


def test_runs_explain_and_history(client: TestClient) -> None:
    runs = client.get("/v1/runs").json()
    assert len(runs["items"]) == 1
    assert runs["next_offset"] is None
    run = runs["items"][0]
    assert (run["files"], run["ingested"], run["rejected"], run["rescored"]) == (2, 25_216, 0, True)
    assert client.get("/v1/runs?offset=1").json()["items"] == []
    why = client.get("/v1/artifacts/flux-1-pro/explain").json()
    detail = client.get("/v1/artifacts/flux-1-pro").json()
    assert why["rank"] == detail["rank"]
    assert abs(sum(p["contribution"] for p in why["parts"].values()) - why["rank"]) <= 0.5
    history = client.get("/v1/artifacts/flux-1-pro/history").json()
    assert [h["rank"] for h in history["items"]] == [detail["rank"]]
    assert history["next_offset"] is None


def test_etag_answers_304_until_the_graph_changes(client: TestClient) -> None:
    first = client.get("/v1/artifacts/dall-e-3")
    tag = first.headers["etag"]
    again = client.get("/v1/artifacts/dall-e-3", headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert client.get("/v1/artifacts/dall-e-3", headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get("/v1/artifacts/flux-1-pro").headers["etag"] != tag
    # RFC 9110: weak comparison, lists of tags, and "*"
    for header in (f"W/{tag}", f'"other", {tag}', "*", f'W/"x", W/{tag}'):
        assert client.get("/v1/artifacts/dall-e-3", headers={"If-None-Match": header}).status_code == 304, header


def test_openapi_operation_ids_and_problem_schemas(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    ops = {op["operationId"]: (path, method) for path, item in spec["paths"].items() for method, op in item.items()}
    assert set(ops) == {
        "getArtifact", "explainArtifact", "getRankHistory", "listAlternatives", "getNeighborhood",
        "compareArtifacts", "findPath", "searchArtifacts", "listTop", "listRuns", "adminIngest", "adminScore",
        "adminForget",
        "health", "ready", "metrics",
        "listCapabilities", "getCapability", "bestFor",
    }
    assert ops["compareArtifacts"] == ("/v1/compare/{a}/{b}", "get")
    for path, item in spec["paths"].items():
        if path.startswith("/v1/"):
            for op in item.values():
                problem = op["responses"]["422"]["content"]["application/problem+json"]["schema"]
                assert problem == {"$ref": "#/components/schemas/Problem"}
                assert "200" in op["responses"]
    assert client.get("/docs").status_code == 200
    assert not any(p.startswith(("/a/", "/compare/")) for p in spec["paths"]), "pages stay out of the API schema"


def test_metrics_count_requests_by_route(sample_home: Path) -> None:
    from api.app import create_app
    from tests.fixtures import api_settings

    with TestClient(create_app(api_settings(sample_home))) as c:
        for _ in range(3):
            assert c.get("/v1/artifacts/dall-e-3").status_code == 200
        assert c.get("/v1/artifacts/nope-nope").status_code == 404
        text = c.get("/metrics").text
    assert 'matchgraph_http_requests_total{method="GET",route="/v1/artifacts/{artifact_id}",status="200"} 3.0' in text
    assert 'matchgraph_http_requests_total{method="GET",route="/v1/artifacts/{artifact_id}",status="404"} 1.0' in text
    assert "matchgraph_answer_cache_hits_total 2.0" in text
    assert 'matchgraph_http_request_duration_seconds_count{route="/v1/artifacts/{artifact_id}"} 4.0' in text


def test_cors_only_for_configured_origins(sample_home: Path) -> None:
    from api.app import create_app
    from tests.fixtures import api_settings

    app = create_app(api_settings(sample_home, MATCHGRAPH_CORS_ORIGINS=["https://compare.example"]))
    with TestClient(app) as c:
        allowed = c.get("/v1/top", headers={"Origin": "https://compare.example"})
        other = c.get("/v1/top", headers={"Origin": "https://evil.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://compare.example"
    assert "access-control-allow-origin" not in other.headers
    with TestClient(create_app(api_settings(sample_home))) as c:
        assert "access-control-allow-origin" not in c.get("/v1/top", headers={"Origin": "https://compare.example"}).headers


@pytest.mark.parametrize("path", ["/v1/top", "/ready", "/v1/artifacts/flux-1-pro", "/a/flux-1-pro"])
def test_unreachable_store_is_503_with_retry_after(tmp_path: Path, path: str) -> None:
    from api.app import create_app
    from tests.fixtures import api_settings

    settings = api_settings(tmp_path, NEO4J_URI="bolt://127.0.0.1:1", NEO4J_PASSWORD="x", MATCHGRAPH_RETRY_AFTER_S=7)
    with TestClient(create_app(settings)) as c:
        r = c.get(path)
        assert c.get("/health").status_code == 200, "the process is alive even when the store is not"
        metrics = c.get("/metrics").text
    assert r.status_code == 503
    assert r.headers["retry-after"] == "7"
    if path.startswith("/a/"):
        assert "not reachable" in r.text
        assert r.headers["content-type"].startswith("text/html")
    else:
        assert "not reachable" in str(_problem(r, 503)["detail"])
    assert "matchgraph_store_unavailable_total 1.0" in metrics


def test_an_unexpected_error_is_a_500_without_internals(sample_home: Path) -> None:
    from api.app import create_app
    from tests.fixtures import api_settings

    class Broken(EmbeddedStore):
        def snapshot(self, name: str | None = None) -> object:  # type: ignore[override]
            raise RuntimeError("secret internals at /srv/data")

    with TestClient(create_app(api_settings(sample_home), Broken(sample_home)), raise_server_exceptions=False) as c:
        r = c.get("/v1/artifacts/flux-1-pro")
    assert r.status_code == 500
    assert r.headers["content-type"] == PROBLEM
    assert "secret" not in r.text
    assert "Traceback" not in r.text
    assert r.json()["detail"] == "the server met an unexpected error; it has been logged"
