"""The web page as the API serves it, without a browser: headers, assets, and what the files may contain."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.routes.web import WEB_DIR

ASSETS = sorted(path for path in WEB_DIR.rglob("*") if path.is_file())
CONTENT_TYPES = {".html": "text/html", ".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
# The only absolute URL allowed in the assets: the SVG namespace, which is a name, not a request.
EXTERNAL_URL = re.compile(r"https?://(?!www\.w3\.org/2000/svg)")


def assert_secured(headers: dict[str, str] | object) -> None:
    policy = headers["content-security-policy"]  # type: ignore[index]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert directives["connect-src"] == "'self'"
    assert directives["media-src"] == "'self' blob:"
    assert directives["img-src"] == "'self' data: blob:"
    assert directives["frame-ancestors"] == "'none'"
    assert headers["x-content-type-options"] == "nosniff"  # type: ignore[index]
    assert headers["referrer-policy"] == "no-referrer"  # type: ignore[index]


def test_the_page_is_served_at_the_root_with_a_strict_policy(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert_secured(response.headers)
    assert '<script type="module" src="/static/js/app.js">' in response.text


def test_the_page_answers_head_as_uptime_monitors_send_it(client: TestClient) -> None:
    response = client.head("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html") and response.content == b""


def test_the_page_and_its_assets_need_no_key_when_the_api_does(secured_client: TestClient) -> None:
    assert secured_client.get("/v1/models").status_code == 401
    assert secured_client.get("/").status_code == 200
    assert secured_client.get("/static/js/api.js").status_code == 200


@pytest.mark.parametrize("asset", ASSETS, ids=lambda path: str(path.relative_to(WEB_DIR)))
def test_every_asset_is_served_with_its_type_and_the_same_headers(client: TestClient, asset: Path) -> None:
    response = client.get(f"/static/{asset.relative_to(WEB_DIR).as_posix()}")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == CONTENT_TYPES[asset.suffix]
    assert_secured(response.headers)
    assert response.content == asset.read_bytes()


def test_missing_assets_and_paths_outside_the_folder_are_404_problems(client: TestClient) -> None:
    for path in ("/static/missing.js", "/static/../routes/web.py", "/static/%2e%2e/routes/web.py"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"


def test_the_page_is_not_part_of_the_api_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths
    assert not [path for path in paths if path.startswith("/static")]


def test_every_reference_in_the_page_and_its_modules_resolves(client: TestClient) -> None:
    html = (WEB_DIR / "index.html").read_text()
    references = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert len(references) >= 3
    for module in (WEB_DIR / "js").glob("*.js"):
        for imported in re.findall(r'from "\./([^"]+)"', module.read_text()):
            references.append(f"/static/js/{imported}")
    for css_url in re.findall(r'url\("([^"]+)"\)', (WEB_DIR / "app.css").read_text()):
        references.append(f"/static/{css_url}")
    for reference in references:
        assert client.get(reference).status_code == 200, reference


@pytest.mark.parametrize("asset", ASSETS, ids=lambda path: str(path.relative_to(WEB_DIR)))
def test_no_asset_loads_anything_from_elsewhere_or_inlines_code(asset: Path) -> None:
    text = asset.read_text()
    assert not EXTERNAL_URL.search(text), "everything is same-origin: the page must work without internet"
    if asset.suffix == ".html":
        # The policy would block these anyway; the page must not depend on them.
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), "inline script"
        assert not re.search(r"\son[a-z]+\s*=", text), "inline event handler"
        assert not re.search(r"\sstyle\s*=", text), "inline style"
    if asset.suffix == ".js":
        # Server data (file names, labels, messages) reaches the page as text, never as markup.
        assert not re.search(r"\.(innerHTML|outerHTML|insertAdjacentHTML)\b|document\.write", text)
