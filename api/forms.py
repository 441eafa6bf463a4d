"""The form fields that travel beside uploaded audio: their validation and their OpenAPI description."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import AnyHttpUrl, BaseModel, Json, TypeAdapter, UrlConstraints, ValidationError

from shared.config import Settings
from shared.errors import InvalidRequest, UnknownModel

MAX_URL_LENGTH = 2048
_metadata = TypeAdapter(Json[dict[str, Any]])
_http_url = TypeAdapter(Annotated[AnyHttpUrl, UrlConstraints(max_length=MAX_URL_LENGTH)])
FLAG_VALUES = {"true": True, "false": False}


def parse_metadata(raw: str | None, *, max_bytes: int) -> dict[str, Any] | None:
    if raw is None or raw == "":
        return None
    if len(raw.encode()) > max_bytes:
        raise InvalidRequest(f"metadata exceeds {max_bytes} bytes", code="metadata_too_large")
    try:
        return _metadata.validate_python(raw)
    except ValidationError as exc:
        raise InvalidRequest("metadata must be a JSON object", code="invalid_metadata") from exc


def parse_flag(raw: str | None, *, field: str) -> bool:
    """A yes/no form field: ``true`` or ``false`` (absent or empty is false), nothing else."""
    if raw is None or raw == "":
        return False
    if raw.lower() not in FLAG_VALUES:
        raise InvalidRequest(f"{field} must be true or false", code=f"invalid_{field}")
    return FLAG_VALUES[raw.lower()]


def parse_http_url(raw: str | None, *, field: str) -> str | None:
    """The URL as given (pydantic would add a trailing slash to a bare host), once it is a valid one."""
    if raw is None or raw == "":
        return None
    try:
        _http_url.validate_python(raw)
    except ValidationError as exc:
        raise InvalidRequest(
            f"{field} must be an http(s) URL of at most {MAX_URL_LENGTH} characters", code=f"invalid_{field}"
        ) from exc
    return raw


def parse_model(raw: str | None, settings: Settings) -> str | None:
    """The name of a served model, or a registered version's id (in its canonical form), which
    ``shared.registry.service.choose_model`` then looks up; None when none is given."""
    if raw is None or raw == "":
        return None
    if raw in settings.model_names:
        return raw
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise UnknownModel(raw, settings.model_names) from None


def openapi_body(
    form_fields: dict[str, str], json_model: type[BaseModel] | None, *, files: str
) -> dict[str, Any]:
    """The OpenAPI request body of a route that reads its body itself: a multipart form or JSON.

    ``form_fields`` maps text fields to their descriptions; ``files`` names the file field ("file" for
    one, "files" for many); without ``json_model`` the route takes only the form."""
    binary = {"type": "string", "format": "binary"}
    file_schema = {"type": "array", "items": binary} if files == "files" else binary
    properties = {files: {**file_schema, "description": "The audio"}} | {
        name: {"type": "string", "description": description} for name, description in form_fields.items()
    }
    content: dict[str, Any] = {
        "multipart/form-data": {"schema": {"type": "object", "properties": properties}}
    }
    if json_model is not None:
        content["application/json"] = {"schema": json_model.model_json_schema()}
    return {"requestBody": {"required": True, "content": content}}
