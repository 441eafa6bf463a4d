"""Property-based testing of the public API against its own OpenAPI document (schemathesis)."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.main import create_app
from shared.config import Settings
from tests.api.conftest import announce_served_model

EXAMPLES_PER_OPERATION = 25


def test_every_operation_keeps_its_contract_and_never_fails_with_500(embedded: Settings) -> None:
    # schemathesis' pytest plugin does not work with this pytest; driving Hypothesis directly is equivalent.
    # As a worker does once its model has loaded; until then /readyz rightly answers 503.
    announce_served_model(["angry", "happy"])
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def keeps_contract(case: schemathesis.Case) -> None:
            # No 5xx; documented status codes and content types; bodies that match their schemas. Not
            # "schema-valid data is accepted": random bytes fit a binary field's schema and are not audio.
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        keeps_contract()
