"""A bounded schemathesis run over the OpenAPI schema: no 5xx, and every answer matches its schema.

Requests are generated from the schema (valid and invalid parameters alike) and sent in-process
to the app over the sample store. Each operation gets a fixed, small number of examples so the
run stays within seconds; derandomized, so a failure reproduces.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from tests.fixtures import api_settings

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 40


def test_every_operation_answers_within_its_schema(sample_home: Path) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(api_settings(sample_home)))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 19
    seen: dict[str, set[int]] = {}

    def fuzz(operation: Any) -> None:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            response = case.call_and_validate(checks=CHECKS)
            seen.setdefault(operation.label, set()).add(response.status_code)

        run()

    for operation in operations:
        fuzz(operation)

    assert set(seen) == {op.label for op in operations}
    # the generated requests reached real answers, not only rejections
    assert 200 in seen["GET /v1/top"]
    assert 200 in seen["GET /v1/search"]
    assert 403 in seen["POST /v1/admin/score"]
