from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.params import Depends as DependsParam
from fastapi.security import HTTPBearer
from sqlalchemy.orm import Session

from shared.auth import service as keys
from shared.auth.caller import ANONYMOUS, Caller
from shared.config import Settings, get_settings
from shared.db import session_scope
from shared.errors import Unauthorized
from shared.storage import Storage, get_storage


def get_session() -> Iterator[Session]:
    with session_scope() as session:
        yield session


# scope="function": the session commits before the response is sent, so a 202 means the job is stored.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
StorageDep = Annotated[Storage, Depends(get_storage)]


def get_caller(request: Request, session: SessionDep, settings: SettingsDep) -> Caller:
    """The API key behind the request. Missing, unknown and revoked keys get the same 401, and the
    presented key is never logged or echoed."""
    if settings.auth_disabled:
        return ANONYMOUS
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise Unauthorized("send an API key: Authorization: Bearer <key>")
    caller = keys.authenticate(session, presented.strip())
    if caller is None:
        raise Unauthorized("the API key is not valid, or it has been revoked")
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]

# Declares the key in the OpenAPI document; get_caller does the checking.
BEARER = HTTPBearer(auto_error=False, description="An API key from `emoq keys create`")


def client_route_dependencies(settings: Settings) -> list[DependsParam]:
    """For every router clients use: nothing there answers without a caller. The document declares the
    key only where one is required, so it never promises an authentication the server does not ask for."""
    if settings.auth_disabled:
        return [Depends(get_caller)]
    return [Depends(get_caller), Security(BEARER)]
