from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from shared.config import Settings, get_settings
from shared.db import session_scope
from shared.storage import Storage, get_storage


def get_session() -> Iterator[Session]:
    with session_scope() as session:
        yield session


# scope="function": the session commits before the response is sent, so a 202 means the job is stored.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
StorageDep = Annotated[Storage, Depends(get_storage)]
