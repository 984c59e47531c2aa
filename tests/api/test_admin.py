"""Admin endpoints: off without a token, 401 with a wrong one, and real ingest and rescoring with the right one."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from api.application import WRITER_LOCK
from graph.embedded import EmbeddedStore
from tests.fixtures import api_settings

TOKEN = "s3cret-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _client(home: Path, **overrides: object) -> TestClient:
    return TestClient(create_app(api_settings(home, MATCHGRAPH_ADMIN_TOKEN=TOKEN, **overrides)))


def _catalog_bytes() -> bytes:
    rows = [
        {"id": "brand-new-model", "name": "Brand New Model", "type": "model", "pricing": "free",
         "capabilities": [{"name": "Text to image"}]},
        {"id": "another-new-tool", "name": "Another New Tool", "type": "cli", "pricing": "paid"},
    ]
    return ("\n".join(json.dumps(r) for r in rows) + "\n{not json at all\n").encode()


def test_admin_is_off_without_a_configured_token(sample_home: Path) -> None:
    with TestClient(create_app(api_settings(sample_home))) as c:
        r = c.post("/v1/admin/score", headers=AUTH)
    assert r.status_code == 403
    assert r.json()["detail"] == "admin endpoints are off"


def test_admin_needs_the_right_bearer_token(home_copy: Path) -> None:
    before = EmbeddedStore(home_copy).version()
    with _client(home_copy) as c:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"},
                        {"Authorization": TOKEN}):
            r = c.post("/v1/admin/ingest?kind=catalog&filename=c.jsonl", content=_catalog_bytes(), headers=headers)
            assert r.status_code == 401, headers
            assert r.headers["www-authenticate"].startswith("Bearer")
            assert r.headers["content-type"] == "application/problem+json"
    assert EmbeddedStore(home_copy).version() == before, "a refused call wrote nothing"
    assert not (home_copy / "uploads").exists()


def test_ingest_upload_then_again_changes_nothing(home_copy: Path) -> None:
    with _client(home_copy) as c:
        assert c.get("/v1/artifacts/brand-new-model").status_code == 404
        r = c.post("/v1/admin/ingest?kind=catalog&filename=new.jsonl", content=_catalog_bytes(), headers=AUTH)
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["kind"], body["read"], body["ingested"], body["rejected"]) == ("catalog", 3, 2, 1)
        assert body["files"][0]["status"] == "ingested"
        rejects = Path(body["rejects"]).read_text()
        assert "new.jsonl" in rejects
        assert "{not json at all" in rejects
        detail = c.get("/v1/artifacts/brand-new-model").json()
        assert detail["name"] == "Brand New Model"
        assert detail["rank"] is None
        version = EmbeddedStore(home_copy).version()

        again = c.post("/v1/admin/ingest?kind=catalog&filename=new.jsonl", content=_catalog_bytes(), headers=AUTH)
        assert again.status_code == 200
        assert again.json()["ingested"] == 0
        assert again.json()["files"][0]["status"].startswith("skipped")
        assert EmbeddedStore(home_copy).version() == version

        scored = c.post("/v1/admin/score?as_of=2026-02-01", headers=AUTH)
        assert scored.status_code == 200, scored.text
        assert scored.json()["artifacts"] == 218
        assert scored.json()["as_of"] == "2026-02-01"
        assert c.get("/v1/artifacts/brand-new-model").json()["rank"] is not None


def test_ingest_logs_moves_times_matched(home_copy: Path) -> None:
    line = {"search_id": "api-upload-1", "ts": "2026-01-30T10:00:00Z", "session": "s-api", "query": "image model",
            "results": ["flux-1-pro", "dall-e-3"], "clicks": ["flux-1-pro"]}
    payload = gzip.compress((json.dumps(line) + "\n").encode())
    with _client(home_copy) as c:
        before = c.get("/v1/artifacts/flux-1-pro").json()["times_matched"]
        r = c.post("/v1/admin/ingest?kind=logs&filename=more.jsonl.gz", content=payload, headers=AUTH)
        assert r.status_code == 200, r.text
        assert (r.json()["ingested"], r.json()["rejected"]) == (1, 0)
        assert c.get("/v1/artifacts/flux-1-pro").json()["times_matched"] == before + 1
        sha = r.json()["files"][0]["sha256"]
        taken_back = c.post(f"/v1/admin/forget?file={sha[:12]}", headers=AUTH)
        assert taken_back.status_code == 200, taken_back.text
        assert (taken_back.json()["sha256"], taken_back.json()["searches"]) == (sha, 1)
        assert taken_back.json()["rescored"]["artifacts"] == 216
        assert c.get("/v1/artifacts/flux-1-pro").json()["times_matched"] == before
        assert c.post(f"/v1/admin/forget?file={sha[:12]}", headers=AUTH).status_code == 404  # already gone
        assert c.post("/v1/admin/forget?file=deadbeef", headers={}).status_code == 401


def test_upload_limits_and_bad_requests(home_copy: Path) -> None:
    with _client(home_copy, MATCHGRAPH_MAX_UPLOAD_BYTES=64) as c:
        big = c.post("/v1/admin/ingest?kind=catalog&filename=big.jsonl", content=b"x" * 65, headers=AUTH)
        assert big.status_code == 413
        assert "limit is 64" in big.json()["detail"]
        empty = c.post("/v1/admin/ingest?kind=catalog&filename=e.jsonl", content=b"", headers=AUTH)
        assert empty.status_code == 422
        assert "empty" in empty.json()["detail"]
        for query in ("kind=catalog&filename=../../etc/passwd", "kind=catalog&filename=", "kind=graph&filename=a.jsonl",
                      "filename=a.jsonl"):
            r = c.post(f"/v1/admin/ingest?{query}", content=b"{}", headers=AUTH)
            assert r.status_code == 422, query
            assert r.json()["errors"], query
    leftovers = list((home_copy / "uploads").glob("*")) if (home_copy / "uploads").exists() else []
    assert leftovers == [], "refused uploads leave no file behind"


def test_admin_waits_for_no_one_a_running_job_is_409(home_copy: Path) -> None:
    store = EmbeddedStore(home_copy)
    with _client(home_copy) as c, store.run_lock(WRITER_LOCK, 60):
        r = c.post("/v1/admin/score", headers=AUTH)
    assert r.status_code == 409
    assert "already" in r.json()["detail"] or "in progress" in r.json()["detail"]
