"""The API documentation pages load everything from the server itself: they work without internet."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_their_scripts_and_styles_from_this_server(client: TestClient, page: str) -> None:
    html = client.get(page).text
    references = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)

    assert any(ref.endswith(".js") for ref in references)
    for ref in references:
        assert ref.startswith("/"), f"{page} loads {ref} from elsewhere"
        assert client.get(ref).status_code == 200, ref
