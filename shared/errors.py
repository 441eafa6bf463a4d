"""Domain errors. Each carries a stable machine-readable code and the HTTP status the API answers with.

The worker stores the same codes on failed jobs, so a client sees one vocabulary whichever side noticed.
"""

from __future__ import annotations


class EmoQError(Exception):
    code: str = "internal_error"
    status: int = 500
    title: str = "Internal error"

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        super().__init__(message or self.title)
        self.message = message or self.title
        if code is not None:
            self.code = code


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


class NotFound(EmoQError):
    code = "not_found"
    status = 404
    title = "Not found"


class Conflict(EmoQError):
    code = "conflict"
    status = 409
    title = "Conflict"


class ServiceUnavailable(EmoQError):
    code = "service_unavailable"
    status = 503
    title = "Service unavailable"


class ModelError(EmoQError):
    """Inference failed in a way a retry of the same input will not fix."""

    code = "model_error"
    title = "Model error"
