"""Every error leaves the API as RFC 9457 ``application/problem+json`` with a stable ``code``."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException

from shared.errors import EmoQError

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class Problem(BaseModel):
    """RFC 9457 problem details, with EmoQ's stable ``code``."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str
    code: str


# Declared as every operation's "default" response, so the OpenAPI document says what errors look like.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    "default": {
        "description": "An error, as RFC 9457 problem details",
        "content": {PROBLEM_JSON: {"schema": Problem.model_json_schema()}},
    }
}


def problem(
    request: Request,
    status: int,
    code: str,
    detail: str,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body = {
        "type": f"urn:emoq:problem:{code}",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "code": code,
        **extensions,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _domain_error(request: Request, exc: EmoQError) -> JSONResponse:
    return problem(
        request,
        exc.status,
        exc.code,
        exc.message,
        title=exc.title,
        headers=exc.headers or None,
        **exc.extensions,
    )


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    # The offending input is not echoed back: it may be large, binary or secret.
    errors = [{"loc": list(e["loc"]), "msg": _message(e), "type": e["type"]} for e in exc.errors()]
    detail = "; ".join(f"{_field(e['loc'])}: {e['msg']}" for e in errors)
    return problem(request, 422, "validation_error", f"the request is not valid: {detail}", errors=errors)


# pydantic's own message for these quotes the offending character.
_MESSAGES = {"uuid_parsing": "must be a UUID", "uuid_type": "must be a UUID"}


def _message(error: Any) -> str:
    return _MESSAGES.get(error["type"], error["msg"])


def _field(loc: list[Any]) -> str:
    """``job_id`` for ("path", "job_id"): where a value was sent matters less than its name."""
    return ".".join(str(part) for part in loc[1:]) or str(loc[0])


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    code = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_").replace("-", "_")
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).description
    return problem(request, exc.status_code, code, detail, headers=getattr(exc, "headers", None))


async def _database_error(request: Request, exc: DBAPIError) -> JSONResponse:
    log.warning("database unavailable: %s", type(exc.orig).__name__ if exc.orig else type(exc).__name__)
    return problem(
        request,
        503,
        "database_unavailable",
        "the database is unavailable; retry shortly",
        headers={"Retry-After": "5"},
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(request, 500, "internal_error", "an unexpected error occurred; it has been logged")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(EmoQError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(OperationalError, _database_error)
    app.add_exception_handler(Exception, _unexpected_error)
