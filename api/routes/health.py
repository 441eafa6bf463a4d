from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from shared.broker import get_celery
from shared.db import get_engine, get_sessionmaker
from shared.jobs.repository import served_models

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    # A coroutine: answered on the event loop, it waits for no thread, however busy the pool is.
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The database and the broker are reachable, and a model is served",
    responses={
        503: {"description": "Not ready: `checks` says what is not", "content": {"application/json": {}}}
    },
)
def readyz() -> JSONResponse:
    checks = {
        "database": _check(_ping_database),
        "broker": _check(_ping_broker),
        "model": _check(_require_served_model),
    }
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks}, status_code=200 if ready else 503
    )


def _check(ping: Callable[[], None]) -> str:
    try:
        ping()
    except Exception as exc:
        # The kind of failure only: a message could carry a connection URL with credentials.
        return f"unavailable ({type(exc).__name__})"
    return "ok"


def _ping_database() -> None:
    with get_engine().connect() as connection:
        connection.execute(text("SELECT 1"))


def _ping_broker() -> None:
    with get_celery().connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=2)


class NoModelServed(Exception):
    """No worker has loaded a model yet: jobs would only wait."""


def _require_served_model() -> None:
    with get_sessionmaker()() as session:
        if not served_models(session):
            raise NoModelServed
