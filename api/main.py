"""The EmoQ HTTP API: accepts audio, queues jobs, serves their status and results."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline

from api.deps import client_route_dependencies, require_admin_scope, require_jobs_scope
from api.metrics import install_metrics
from api.problems import PROBLEM_RESPONSES, install_problem_handlers
from api.routes import (
    batches,
    datasets,
    deliveries,
    health,
    jobs,
    models,
    predict,
    trainings,
    web,
    webhook_secret,
)
from shared.config import get_settings
from shared.logs import configure_logging


def create_app() -> FastAPI:
    configure_logging()
    # Swagger UI and ReDoc from files in the package, not a CDN: self-hosted servers are often offline.
    app = FastAPIOffline(
        title="EmoQ",
        version="0.1.0",
        summary="Speech-emotion recognition as an asynchronous job service",
        docs_url="/docs",
        responses=PROBLEM_RESPONSES,
    )
    settings = get_settings()
    install_problem_handlers(app)
    if origins := settings.cors_origin_list:
        # Bearer keys, not cookies: credentials stay off, so no origin can ride a browser's session.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "HEAD", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "Prefer"],
            expose_headers=["Location", "Preference-Applied", "Idempotent-Replayed", "Retry-After"],
        )
    install_metrics(app, settings)
    app.include_router(health.router)
    app.include_router(web.router)
    # Authentication happens here, once for every client route, not in each handler.
    client_routers = (
        jobs.router,
        predict.router,
        deliveries.router,
        batches.router,
        models.router,
        datasets.router,
        trainings.router,
    )
    for router in client_routers:
        app.include_router(router, dependencies=client_route_dependencies(settings, require_jobs_scope))
    app.include_router(
        webhook_secret.router, dependencies=client_route_dependencies(settings, require_admin_scope)
    )
    return app
