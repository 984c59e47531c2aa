"""The baseline for the API benchmark: a bare FastAPI endpoint that returns a constant."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/constant")
async def constant() -> dict[str, bool]:
    return {"ok": True}
