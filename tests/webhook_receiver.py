"""A real HTTP webhook receiver for tests: verifies every signature, records every request, misbehaves
on request.

    with WebhookReceiver(secret) as receiver:
        receiver.script("/hook", 500, 200)         # first request 500, then 200
        url = receiver.url("/hook")
        ...
        receiver.wait_for(2)                       # for tests with real worker processes

Without a script a path answers by its name: ``/status/503`` with that status, ``/gone`` with 410,
``/slow/2.5`` after 2.5 seconds; anything else with 200.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass(frozen=True)
class Reply:
    status: int = 200
    delay: float = 0.0  # seconds before answering; longer than the sender's timeout makes it time out
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    verified: bool
    answered: int

    @property
    def webhook_id(self) -> str | None:
        return self.headers.get("webhook-id")

    @property
    def payload(self) -> Any:
        return json.loads(self.body) if self.body else None


class WebhookReceiver:
    def __init__(self, secret: str | None = None) -> None:
        self.secret = secret
        self._lock = threading.Condition()
        self._scripts: dict[str, list[Reply]] = {}
        self._received: list[Received] = []
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.receiver = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="webhook-receiver",
            daemon=True,
        )

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stopping.set()  # wakes handlers that are sleeping on purpose
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, path: str = "/hook", *, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def script(self, path: str, *replies: Reply | int) -> None:
        """Answer the next requests to ``path`` with these, in order; then by the path's name again."""
        with self._lock:
            self._scripts.setdefault(path, []).extend(
                r if isinstance(r, Reply) else Reply(status=r) for r in replies
            )

    def received(self, path: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self._received if path is None or r.path == path]

    def wait_for(self, count: int, *, path: str | None = None, timeout: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(found := [r for r in self._received if path is None or r.path == path]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"received {len(found)} of {count} requests")
                self._lock.wait(left)
            return found

    def _reply_for(self, path: str) -> Reply:
        with self._lock:
            script = self._scripts.get(path)
            if script:
                return script.pop(0)
        parts = path.strip("/").split("/")
        if parts[0] == "status" and len(parts) == 2:
            return Reply(status=int(parts[1]))
        if parts[0] == "gone":
            return Reply(status=410)
        if parts[0] == "slow" and len(parts) == 2:
            return Reply(delay=float(parts[1]))
        return Reply()

    def _verify(self, body: bytes, headers: dict[str, str]) -> bool:
        if self.secret is None:
            return False
        try:
            Webhook(self.secret).verify(body, headers)
        except (WebhookVerificationError, ValueError):
            return False
        return True

    def _record(self, received: Received) -> None:
        with self._lock:
            self._received.append(received)
            self._lock.notify_all()


class _Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer

    def _handle(self) -> None:
        receiver: WebhookReceiver = self.server.receiver  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply = receiver._reply_for(self.path)
        receiver._record(
            Received(
                method=self.command,
                path=self.path,
                headers=headers,
                body=body,
                verified=receiver._verify(body, headers),
                answered=reply.status,
            )
        )
        if reply.delay and receiver._stopping.wait(reply.delay):
            return
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except OSError:
            pass  # the sender gave up (timed out) before the answer came

    do_GET = do_POST = do_PUT = do_HEAD = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output quiet
