"""Clients over the shared sample store (``sample_home`` in tests/conftest.py)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.fixtures import api_settings


@pytest.fixture
def home_copy(sample_home: Path, tmp_path: Path) -> Path:
    """A private copy of the sample home, for tests that write."""
    target = tmp_path / "home"
    shutil.copytree(sample_home, target)
    return target


@pytest.fixture(scope="session")
def client(sample_home: Path) -> Iterator[TestClient]:
    """A read-only client over the sample store (tests that write use ``home_copy``)."""
    with TestClient(create_app(api_settings(sample_home))) as c:
        yield c


@pytest.fixture(scope="session")
def bare_client(catalog_only_home: Path) -> Iterator[TestClient]:
    """A read-only client over the scored sample catalog without any search logs."""
    with TestClient(create_app(api_settings(catalog_only_home))) as c:
        yield c
