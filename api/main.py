"""The EmoQ HTTP API: accepts audio, queues jobs, serves their status and results."""

from __future__ import annotations

from fastapi import FastAPI

from api.problems import PROBLEM_RESPONSES, install_problem_handlers
from api.routes import batches, deliveries, health, jobs, models
from shared.logs import configure_logging


def create_app() -> FastAPI:
    configure_logging()
    app = FastAPI(
        title="EmoQ",
        version="0.1.0",
        summary="Speech-emotion recognition as an asynchronous job service",
        docs_url="/docs",
        responses=PROBLEM_RESPONSES,
    )
    install_problem_handlers(app)
    for router in (health.router, jobs.router, deliveries.router, batches.router, models.router):
        app.include_router(router)
    return app
