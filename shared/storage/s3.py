"""Audio in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, R2): hosts share no disk, only the bucket.

Uploads stream as S3 multipart uploads, one part in memory at a time, and become visible only when the
upload completes; an aborted or refused one leaves no object. The API's parser pushes chunks as they come
off the socket, so parts are sent from ``write`` (boto3's ``upload_fileobj`` would want a reader to pull
from, and keeps up to ten parts in memory). Reading downloads to a temporary file with boto3's managed
transfer, since decoders need a seekable file.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from shared.config import Settings
from shared.errors import ServiceUnavailable, UploadTooLarge
from shared.storage import SizedDigest, StoredBlob, check_key

log = logging.getLogger(__name__)

# S3 wants parts of at least 5 MiB (all but the last); 8 MiB is boto3's own default chunk size.
PART_BYTES = 8 * 1024 * 1024
_ERRORS = (BotoCoreError, ClientError)


def _unavailable(exc: Exception) -> ServiceUnavailable:
    # The exception's text may name the endpoint and bucket but never the credentials.
    log.warning("object storage refused a request", extra={"error": type(exc).__name__})
    return ServiceUnavailable("audio storage is unreachable or refused the write", code="storage_unavailable")


def _not_found(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}


class S3Writer:
    def __init__(self, client: Any, bucket: str, name: str, key: str, max_bytes: int) -> None:
        self._client, self._bucket, self._name, self._key = client, bucket, name, key
        self._digest = SizedDigest(max_bytes)
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, object]] = []

    def write(self, chunk: bytes) -> None:
        try:
            self._digest.add(chunk)
        except UploadTooLarge:
            self.abort()
            raise
        self._buffer += chunk
        if len(self._buffer) >= PART_BYTES:
            self._guarded(self._send_part)

    def commit(self) -> StoredBlob:
        self._guarded(self._finish)
        return self._digest.blob(self._key)

    def abort(self) -> None:
        self._buffer.clear()
        upload_id, self._upload_id = self._upload_id, None
        if upload_id is None:
            return
        try:
            self._client.abort_multipart_upload(Bucket=self._bucket, Key=self._name, UploadId=upload_id)
        except _ERRORS:
            # Parts left behind are invisible and never read; a bucket lifecycle rule removes them.
            log.warning("an aborted upload's parts could not be removed")

    def _guarded(self, step: Callable[[], None]) -> None:
        try:
            step()
        except _ERRORS as exc:
            self.abort()
            raise _unavailable(exc) from exc

    def _send_part(self) -> None:
        if self._upload_id is None:
            started = self._client.create_multipart_upload(Bucket=self._bucket, Key=self._name)
            self._upload_id = started["UploadId"]
        number = len(self._parts) + 1
        sent = self._client.upload_part(
            Bucket=self._bucket,
            Key=self._name,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=bytes(self._buffer),
        )
        self._parts.append({"ETag": sent["ETag"], "PartNumber": number})
        self._buffer.clear()

    def _finish(self) -> None:
        if self._upload_id is None:
            # Small enough for one request: most clips never start a multipart upload.
            self._client.put_object(Bucket=self._bucket, Key=self._name, Body=bytes(self._buffer))
            self._buffer.clear()
            return
        if self._buffer:
            self._send_part()
        self._client.complete_multipart_upload(
            Bucket=self._bucket,
            Key=self._name,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": self._parts},
        )
        self._upload_id = None


class S3Storage:
    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self._client, self.bucket = client, bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Storage:
        url = urlsplit(settings.storage_url)
        return cls(s3_client(settings), url.netloc, url.path)

    def object_name(self, key: str) -> str:
        return f"{self.prefix}{check_key(key)}"

    def writer(self, key: str, *, max_bytes: int) -> S3Writer:
        return S3Writer(self._client, self.bucket, self.object_name(key), key, max_bytes)

    @contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="emoq-audio-") as folder:
            path = Path(folder) / key
            try:
                with path.open("wb") as file:
                    self._client.download_fileobj(self.bucket, self.object_name(key), file)
            except ClientError as exc:
                if _not_found(exc):
                    raise FileNotFoundError(f"no stored audio under {key}") from exc
                raise _unavailable(exc) from exc
            except BotoCoreError as exc:
                raise _unavailable(exc) from exc
            yield path

    def delete(self, key: str) -> None:
        try:
            self._client.delete_object(Bucket=self.bucket, Key=self.object_name(key))
        except _ERRORS:
            # Deletes run after the commit that forgot the key: raising cannot bring the row back. The
            # object stays until a bucket lifecycle rule expires it (docs/scaling.md).
            log.warning("stored audio could not be deleted", extra={"audio_key": key})

    def exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=self.object_name(key))
        except ClientError as exc:
            if _not_found(exc):
                return False
            raise _unavailable(exc) from exc
        except BotoCoreError as exc:
            raise _unavailable(exc) from exc
        return True


def s3_client(settings: Settings) -> Any:
    """A boto3 client for the configured store, with settings S3-compatible stores accept."""
    secret = settings.s3_secret_access_key
    return boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key_id,
        aws_secret_access_key=secret.get_secret_value() if secret else None,
        config=Config(
            connect_timeout=5,
            read_timeout=30,
            retries={"max_attempts": 3, "mode": "standard"},
            # Custom endpoints (MinIO, Ceph) seldom have wildcard DNS for bucket subdomains.
            s3={"addressing_style": "path" if settings.s3_endpoint_url else "auto"},
            # Several S3-compatible stores reject the CRC checksums boto3 adds by default.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )
