"""The API's Prometheus endpoint: its own request figures, job counters, and the service's state."""

from __future__ import annotations

import time
from functools import cache

from fastapi import APIRouter, FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.metrics.state import ServiceStateCollector

REQUESTS = Counter("emoq_http_requests_total", "HTTP requests answered", ["method", "route", "status"])
REQUEST_SECONDS = Histogram(
    "emoq_http_request_duration_seconds",
    "From the request's arrival to the end of the answer, uploads included",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
def metrics() -> Response:
    """Open like /healthz, for the scraper; restrict it at the proxy if the API faces the internet."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


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


def install_metrics(app: FastAPI) -> None:
    _register_state_collector()
    app.add_middleware(RequestMetrics)
    app.include_router(router)
