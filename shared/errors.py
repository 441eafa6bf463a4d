"""Domain errors. Each carries a stable machine-readable code and the HTTP status the API answers with.

The worker stores the same codes on failed jobs, so a client sees one vocabulary whichever side noticed.
"""

from __future__ import annotations

from typing import Any


class EmoQError(Exception):
    code: str = "internal_error"
    status: int = 500
    title: str = "Internal error"

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        super().__init__(message or self.title)
        self.message = message or self.title
        if code is not None:
            self.code = code

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers the answer needs to be actionable (when to retry, how to authenticate)."""
        return {"Retry-After": "5"} if self.status == 503 else {}

    @property
    def extensions(self) -> dict[str, Any]:
        """Members of the problem body beyond the standard ones, for a client to act on."""
        return {}


class AudioError(EmoQError):
    """The input is not usable audio. Permanent: retrying the same bytes cannot help."""

    status = 422
    title = "Unusable audio"


class UndecodableAudio(AudioError):
    code = "undecodable_audio"
    status = 415
    title = "Not decodable audio"


class EmptyAudio(AudioError):
    code = "empty_audio"
    title = "Audio has no samples"


class AudioTooShort(AudioError):
    code = "too_short"
    title = "Audio too short"


class AudioTooLong(AudioError):
    code = "audio_too_long"
    title = "Audio too long"


class UploadTooLarge(EmoQError):
    code = "upload_too_large"
    status = 413
    title = "Upload too large"


class InvalidRequest(EmoQError):
    code = "invalid_request"
    status = 422
    title = "Invalid request"


class UnknownModel(InvalidRequest):
    """``model=`` names no model this service serves, nor a version of the caller's; the problem lists the
    served models."""

    code = "unknown_model"
    title = "Unknown model"

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(
            f"no model {name!r}; the models are {', '.join(known)}, or the id of one of your model versions"
        )
        self.known = known

    @property
    def extensions(self) -> dict[str, Any]:
        return {"models": self.known}


class NotFound(EmoQError):
    code = "not_found"
    status = 404
    title = "Not found"


class Conflict(EmoQError):
    code = "conflict"
    status = 409
    title = "Conflict"


class Unauthorized(EmoQError):
    """No valid API key. One code and one message for missing, unknown and revoked keys alike."""

    code = "unauthorized"
    status = 401
    title = "Unauthorized"

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class InsufficientScope(EmoQError):
    """A valid key that lacks the scope the request needs; the problem names it."""

    code = "insufficient_scope"
    status = 403
    title = "Insufficient scope"

    def __init__(self, scope: str) -> None:
        super().__init__(f"this API key lacks the scope {scope}")
        self.scope = scope

    @property
    def extensions(self) -> dict[str, str]:
        return {"scope": self.scope}

    @property
    def headers(self) -> dict[str, str]:
        # RFC 6750, section 3: the scope a client would need, in the challenge.
        return {"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{self.scope}"'}


class TooManyRequests(EmoQError):
    """A key's rate limit or quota of active jobs is reached; worth retrying after ``retry_after`` s."""

    code = "too_many_requests"
    status = 429
    title = "Too many requests"

    def __init__(self, message: str, *, code: str, retry_after: int) -> None:
        super().__init__(message, code=code)
        self.retry_after = max(1, retry_after)

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class ServiceUnavailable(EmoQError):
    code = "service_unavailable"
    status = 503
    title = "Service unavailable"


class ModelError(EmoQError):
    """Inference failed in a way a retry of the same input will not fix."""

    code = "model_error"
    title = "Model error"


class ModelUnavailable(EmoQError):
    """A registered model version a job asked for cannot be loaded: deleted, or its archive gone or
    broken. Permanent for the job, which fails with this code instead of waiting for it forever."""

    code = "model_unavailable"
    status = 422
    title = "Model unavailable"


class JobUnfinished(EmoQError):
    """A synchronous answer was asked for and the job did not end in time; it goes on, and can be polled."""

    code = "job_unfinished"
    status = 504
    title = "Job not finished in time"

    def __init__(self, message: str, *, job_id: str) -> None:
        super().__init__(message)
        self.job_id = job_id

    @property
    def headers(self) -> dict[str, str]:
        return {"Location": f"/v1/jobs/{self.job_id}"}

    @property
    def extensions(self) -> dict[str, str]:
        return {"job_id": self.job_id}


class JobEndedUnscored(EmoQError):
    """A synchronous answer was asked for and the job failed or was cancelled: its own code is the answer."""

    status = 422
    title = "The audio could not be scored"

    def __init__(self, message: str, *, code: str, job_id: str) -> None:
        super().__init__(message, code=code)
        self.job_id = job_id

    @property
    def extensions(self) -> dict[str, str]:
        return {"job_id": self.job_id}


class DatasetUnusable(EmoQError):
    """An uploaded dataset that cannot be trained on as a whole; nothing of it is kept. ``reasons`` say
    why (each with its own code), ``refused`` which files were refused on the way and why."""

    code = "dataset_unusable"
    status = 422
    title = "Unusable dataset"

    def __init__(self, reasons: list[dict[str, Any]], refused: list[dict[str, Any]] | None = None) -> None:
        super().__init__("; ".join(reason["message"] for reason in reasons))
        self.reasons = reasons
        self.refused = refused or []

    @property
    def extensions(self) -> dict[str, Any]:
        return {"reasons": self.reasons, "refused": self.refused}
