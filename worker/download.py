"""Fetching audio given by URL into storage: size-limited, time-limited, and only from public hosts.

A refused address raises ``UrlNotAllowed`` (code ``url_not_allowed``) from the guard, unchanged.
"""

from __future__ import annotations

from shared.config import Settings
from shared.errors import EmoQError, UploadTooLarge
from shared.net.fetch import FetchFailed, open_response
from shared.storage import Storage, StoredBlob


class DownloadFailed(EmoQError):
    code = "download_failed"
    status = 422
    title = "Audio could not be downloaded"


def download_audio(
    url: str, key: str, *, storage: Storage, settings: Settings
) -> tuple[StoredBlob, str | None]:
    """Stream the audio at ``url`` into storage under ``key``; returns the blob and its content type."""
    try:
        with open_response(
            "GET",
            url,
            allowlist=settings.private_host_allowlist,
            timeout=settings.download_timeout_seconds,
            max_redirects=settings.download_max_redirects,
        ) as response:
            if response.status_code >= 400:
                raise DownloadFailed(f"the audio URL answered HTTP {response.status_code}")
            declared = int(response.headers.get("content-length") or 0)
            if declared > settings.max_upload_bytes:
                raise UploadTooLarge(f"the audio is larger than {settings.max_upload_bytes} bytes")
            writer = storage.writer(key, max_bytes=settings.max_upload_bytes)
            try:
                for chunk in response.iter_bytes():
                    writer.write(chunk)
            except BaseException:
                writer.abort()
                raise
            return writer.commit(), response.headers.get("content-type")
    except UploadTooLarge as exc:
        raise UploadTooLarge(exc.message, code="download_too_large") from exc
    except FetchFailed as exc:
        # Its message names scheme, host and port only: the URL may carry credentials or signed tokens.
        raise DownloadFailed(exc.message) from exc
