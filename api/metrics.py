"""The API's Prometheus endpoint: its own request figures, job counters, and the service's state."""

from __future__ import annotations

import hmac
import time
from functools import cache

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.config import Settings
from shared.errors import Unauthorized
from shared.metrics.state import ServiceStateCollector

REQUESTS = Counter("emoq_http_requests_total", "HTTP requests answered", ["method", "route", "status"])
REQUEST_SECONDS = Histogram(
    "emoq_http_request_duration_seconds",
    "From the request's arrival to the end of the answer, uploads included",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)


def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


def metrics_router(token: str) -> APIRouter:
    """/metrics on the API's own port, for a scraper that presents the token. The figures name queues,
    counts and models: not for every client that can reach the API."""

    def require_token(request: Request) -> None:
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), token.encode()):
            raise Unauthorized("/metrics needs the metrics token: Authorization: Bearer <EMOQ_METRICS_TOKEN>")

    router = APIRouter(dependencies=[Depends(require_token)])
    router.add_api_route("/metrics", metrics, methods=["GET"], include_in_schema=False)
    return router


class RequestMetrics:
    """Counts every answer by its route's template (``/v1/jobs/{job_id}``), never the raw path, whose ids
    would make a series per job."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_recording_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_recording_status)
        finally:
            route = _route_template(scope)
            REQUESTS.labels(scope["method"], route, str(status)).inc()
            REQUEST_SECONDS.labels(scope["method"], route).observe(time.perf_counter() - started)


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    if route is not None:
        return route.path
    # A mount (the page's static files) leaves no route, only the prefix it matched in root_path.
    mounted = scope.get("root_path", "").removeprefix(scope.get("app_root_path", ""))
    return f"{mounted}/{{path}}" if mounted else "unmatched"


@cache
def _register_state_collector() -> None:
    # Once per process: every app created in it (tests make many) shares the one default registry.
    REGISTRY.register(ServiceStateCollector())


def install_metrics(app: FastAPI, settings: Settings) -> None:
    """Count requests; serve /metrics on the API's port only behind ``EMOQ_METRICS_TOKEN``. Without a
    token the figures are served by ``emoq api`` on its own listener (``EMOQ_METRICS_PORT``) alone."""
    _register_state_collector()
    app.add_middleware(RequestMetrics)
    if settings.metrics_token is not None:
        app.include_router(metrics_router(settings.metrics_token.get_secret_value()))
