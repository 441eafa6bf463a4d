"""The form fields that travel beside uploaded audio: their validation and their OpenAPI description."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel

from shared.errors import InvalidRequest


def parse_metadata(raw: str | None, *, max_bytes: int) -> dict[str, Any] | None:
    if raw is None or raw == "":
        return None
    if len(raw.encode()) > max_bytes:
        raise InvalidRequest(f"metadata exceeds {max_bytes} bytes", code="metadata_too_large")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidRequest("metadata must be a JSON object", code="invalid_metadata") from exc
    if not isinstance(value, dict):
        raise InvalidRequest("metadata must be a JSON object", code="invalid_metadata")
    return value


def parse_http_url(raw: str | None, *, field: str) -> str | None:
    if raw is None or raw == "":
        return None
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.hostname or len(raw) > 2048:
        raise InvalidRequest(
            f"{field} must be an http(s) URL of at most 2048 characters", code=f"invalid_{field}"
        )
    return raw


def openapi_body(form_fields: dict[str, str], json_model: type[BaseModel], *, files: str) -> dict[str, Any]:
    """The OpenAPI request body of a route that reads its body itself: a multipart form or JSON.

    ``form_fields`` maps text fields to their descriptions; ``files`` names the file field ("file" for
    one, "files" for many)."""
    binary = {"type": "string", "format": "binary"}
    file_schema = {"type": "array", "items": binary} if files == "files" else binary
    properties = {files: {**file_schema, "description": "The audio"}} | {
        name: {"type": "string", "description": description} for name, description in form_fields.items()
    }
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {"schema": {"type": "object", "properties": properties}},
                "application/json": {"schema": json_model.model_json_schema()},
            },
        }
    }
