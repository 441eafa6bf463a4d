"""The API's Swagger UI renders in a browser with no internet: every operation is listed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.integration.stack import Stack
from tests.web.conftest import OpenPage, screenshot

pytestmark = pytest.mark.integration


def test_swagger_ui_lists_every_operation(emoq: Stack, open_page: OpenPage) -> None:
    document = emoq.client.get("/openapi.json").json()
    operations = sum(len(methods) for methods in document["paths"].values())

    page = open_page(emoq, "/docs")

    expect(page.locator(".opblock").first).to_be_visible()
    assert page.locator(".opblock").count() == operations
    screenshot(page, "api-docs", full_page=False)
