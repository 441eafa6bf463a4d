from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.params import Depends as DependsParam
from fastapi.security import HTTPBearer
from sqlalchemy.orm import Session

from shared.auth import service as keys
from shared.auth.caller import ANONYMOUS, Caller
from shared.auth.scopes import Scope
from shared.config import Settings, get_settings
from shared.db import session_scope
from shared.errors import Unauthorized
from shared.storage import Storage, get_storage

# Dependencies that do no I/O are coroutines: FastAPI sends a plain function to the thread pool, and under
# load each such trip waited 0.4 ms at the median and 5 ms at p99 for a thread, a dozen of them a request.


async def get_session() -> AsyncIterator[Session]:
    """A session whose transaction ends (commit, or rollback on error) in the thread pool, after the
    route. Making one does no I/O: it connects on first use."""
    scope = session_scope()
    session = scope.__enter__()
    try:
        yield session
    except BaseException as exc:
        if not await run_in_threadpool(scope.__exit__, type(exc), exc, exc.__traceback__):
            raise
    else:
        await run_in_threadpool(scope.__exit__, None, None, None)


async def current_settings() -> Settings:
    return get_settings()


async def current_storage() -> Storage:
    return get_storage()


# scope="function": the session commits before the response is sent, so a 202 means the job is stored.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(current_settings)]
StorageDep = Annotated[Storage, Depends(current_storage)]


async def get_caller(request: Request, session: SessionDep, settings: SettingsDep) -> Caller:
    """The API key behind the request. Missing, unknown and revoked keys get the same 401, and the
    presented key is never logged or echoed."""
    if settings.auth_disabled:
        return ANONYMOUS
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise Unauthorized("send an API key: Authorization: Bearer <key>")
    caller = await run_in_threadpool(keys.authenticate, session, presented.strip())
    if caller is None:
        raise Unauthorized("the API key is not valid, or it has been revoked")
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]

READING = frozenset({"GET", "HEAD", "OPTIONS"})


async def require_jobs_scope(request: Request, caller: CallerDep) -> None:
    """One rule for every jobs, batches, deliveries, models and datasets route: reading needs ``jobs:read``,
    anything that changes something needs ``jobs:write``."""
    caller.require(Scope.JOBS_READ if request.method in READING else Scope.JOBS_WRITE)


async def require_admin_scope(caller: CallerDep) -> None:
    caller.require(Scope.ADMIN)


# Declares the key in the OpenAPI document; get_caller does the checking.
BEARER = HTTPBearer(auto_error=False, description="An API key from `emoq keys create`")


def client_route_dependencies(settings: Settings, scope_check: Callable[..., None]) -> list[DependsParam]:
    """For every router clients use: nothing there answers without a caller who holds the scope. The
    document declares the key only where one is required, so it never promises an authentication the
    server does not ask for."""
    checks = [Depends(get_caller), Depends(scope_check)]
    return checks if settings.auth_disabled else [*checks, Security(BEARER)]
