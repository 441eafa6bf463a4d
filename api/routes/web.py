"""The web page at ``/``: one HTML file and its static assets, same-origin, no build step.

Neither is behind API-key auth (the page asks for the key and sends it with each API call) and neither
is in the OpenAPI document, which describes the API that clients and the fuzz tests drive.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

WEB_DIR = Path(__file__).resolve().parents[1] / "web"
STATIC_PREFIX = "/static"

# Everything the page loads comes from this origin; no inline script, style or handler is allowed.
# blob: serves the local playback of a recording and the CSV download; nothing may frame the page.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "microphone=(self), camera=(), geolocation=()",
    # Revalidate on every load (cheap with the ETag), so a new release never runs next to stale modules.
    "Cache-Control": "no-cache",
}


class _SecuredStaticFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(SECURITY_HEADERS)
        return response


router = APIRouter(include_in_schema=False)
router.mount(STATIC_PREFIX, _SecuredStaticFiles(directory=WEB_DIR), name="static")


# HEAD too: uptime monitors and health checkers send it.
@router.api_route("/", methods=["GET", "HEAD"])
def index() -> FileResponse:
    return FileResponse(
        WEB_DIR / "index.html", media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS
    )
