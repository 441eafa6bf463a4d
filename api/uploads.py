"""Streaming multipart reception: file parts go straight to storage, hashed and size-checked on the way.

Starlette's form parser would first spool the whole body to a temporary file; here nothing larger than
one network chunk is held in memory, and an oversized upload is refused as soon as it crosses the limit.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from anyio import to_thread
from fastapi import Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from shared.errors import EmoQError, InvalidRequest, UploadTooLarge
from shared.storage import BlobWriter, Storage, StoredBlob

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class ReceivedFile:
    field: str
    filename: str | None
    content_type: str | None
    blob: StoredBlob | None
    error: EmoQError | None = None  # set instead of blob when a batch tolerates one oversized file


@dataclass
class ReceivedForm:
    fields: dict[str, str] = field(default_factory=dict)
    files: list[ReceivedFile] = field(default_factory=list)


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    name: str = ""
    filename: str | None = None
    content_type: str | None = None
    writer: BlobWriter | None = None
    error: EmoQError | None = None
    data: bytearray = field(default_factory=bytearray)


def display_filename(raw: bytes) -> str:
    """The client's filename, made safe to show: last path component, no control characters."""
    name = raw.decode("utf-8", errors="replace").replace("\\", "/").rsplit("/", 1)[-1]
    return _CONTROL.sub("", name)[:255] or "upload"


class _Events:
    """Collects parser callbacks so they can be handled asynchronously after each chunk."""

    def __init__(self) -> None:
        self.items: list[tuple[str, bytes]] = []

    def callbacks(self) -> dict[str, Callable[..., None]]:
        def data(kind: str) -> Callable[[bytes, int, int], None]:
            return lambda buf, start, end: self.items.append((kind, bytes(buf[start:end])))

        def mark(kind: str) -> Callable[[], None]:
            return lambda: self.items.append((kind, b""))

        return {
            "on_part_begin": mark("begin"),
            "on_part_data": data("data"),
            "on_part_end": mark("end"),
            "on_header_field": data("header_field"),
            "on_header_value": data("header_value"),
            "on_header_end": mark("header_end"),
            "on_headers_finished": mark("headers_done"),
            "on_end": mark("closed"),
        }


async def receive_form(
    request: Request,
    storage: Storage,
    *,
    new_key: Callable[[], str],
    max_file_bytes: int,
    file_fields: frozenset[str],
    max_files: int,
    max_field_bytes: int,
    max_total_file_bytes: int | None = None,
    total_too_large_code: str = "batch_too_large",
    tolerate_oversized_files: bool = False,
) -> ReceivedForm:
    """Parse ``multipart/form-data``, streaming each file part into storage under ``new_key()``.

    With ``tolerate_oversized_files`` a file over ``max_file_bytes`` is skipped and reported in its
    ``ReceivedFile.error`` (a batch goes on without it); otherwise it refuses the whole request. On any
    error every blob written so far is removed, so a refused request leaves nothing behind.
    """
    total_file_bytes = 0

    def open_file() -> BlobWriter:
        return storage.writer(new_key(), max_bytes=max_file_bytes)

    content_type, params = parse_options_header(request.headers.get("content-type"))
    if content_type != b"multipart/form-data" or b"boundary" not in params:
        raise InvalidRequest("send the audio as multipart/form-data", code="unsupported_content_type")
    events = _Events()
    parser = MultipartParser(params[b"boundary"], events.callbacks())
    form = ReceivedForm()
    part = _Part()
    header_name = header_value = b""
    closed = False
    try:
        async for chunk in request.stream():
            events.items.clear()
            try:
                parser.write(chunk)
            except MultipartParseError as exc:
                raise InvalidRequest("malformed multipart body", code="malformed_multipart") from exc
            for kind, data in events.items:
                if kind == "begin":
                    part = _Part()
                elif kind == "header_field":
                    header_name += data
                elif kind == "header_value":
                    header_value += data
                elif kind == "header_end":
                    part.headers[header_name.lower()] = header_value
                    header_name = header_value = b""
                elif kind == "headers_done":
                    _start_part(part, form, open_file, file_fields, max_files)
                elif kind == "data":
                    if part.writer is not None or part.error is not None:
                        total_file_bytes += len(data)
                        if max_total_file_bytes is not None and total_file_bytes > max_total_file_bytes:
                            raise UploadTooLarge(
                                f"the files exceed {max_total_file_bytes} bytes together",
                                code=total_too_large_code,
                            )
                    await _write(part, data, max_field_bytes, tolerate_oversized_files)
                elif kind == "end":
                    await _finish_part(part, form)
                elif kind == "closed":
                    closed = True
        parser.finalize()
        if not closed:
            # Cut off (a dropped connection, a client that gave up): what was read is no upload at all.
            raise InvalidRequest(
                "the multipart body ends before its closing boundary", code="malformed_multipart"
            )
    except BaseException:
        if part.writer is not None:
            part.writer.abort()
        for received in form.files:
            if received.blob is not None:
                storage.delete(received.blob.key)
        raise
    return form


def _start_part(
    part: _Part,
    form: ReceivedForm,
    open_file: Callable[[], BlobWriter],
    file_fields: frozenset[str],
    max_files: int,
) -> None:
    _, options = parse_options_header(part.headers.get(b"content-disposition", b""))
    if b"name" not in options:
        raise InvalidRequest("a multipart part has no name", code="malformed_multipart")
    part.name = options[b"name"].decode("utf-8", errors="replace")
    if b"filename" not in options:
        return
    if part.name not in file_fields:
        raise InvalidRequest(f"unexpected file field {part.name!r}", code="unexpected_file")
    if len(form.files) >= max_files:
        raise InvalidRequest(f"at most {max_files} file(s) per request", code="too_many_files")
    part.filename = display_filename(options[b"filename"])
    media_type, _ = parse_options_header(part.headers.get(b"content-type", b""))
    part.content_type = media_type.decode("latin-1")[:127] or None
    part.writer = open_file()


async def _write(part: _Part, data: bytes, max_field_bytes: int, tolerate_oversized: bool) -> None:
    if part.error is not None:
        return  # the rest of a skipped file
    if part.writer is not None:
        try:
            await to_thread.run_sync(part.writer.write, data)
        except UploadTooLarge as exc:
            if not tolerate_oversized:
                raise
            part.writer, part.error = None, exc  # the writer has already removed its part file
        return
    part.data += data
    if len(part.data) > max_field_bytes:
        raise UploadTooLarge(
            f"form field {part.name!r} exceeds {max_field_bytes} bytes", code="field_too_large"
        )


async def _finish_part(part: _Part, form: ReceivedForm) -> None:
    if part.error is not None:
        form.files.append(ReceivedFile(part.name, part.filename, part.content_type, None, part.error))
        return
    if part.writer is None:
        try:
            form.fields[part.name] = part.data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidRequest(f"form field {part.name!r} is not UTF-8", code="invalid_encoding") from exc
        return
    blob = await to_thread.run_sync(part.writer.commit)
    part.writer = None
    form.files.append(ReceivedFile(part.name, part.filename, part.content_type, blob))
