"""A minimal EmoQ webhook receiver: verifies each request and prints the event.

pip install standardwebhooks
EMOQ_WEBHOOK_SECRET=whsec_... python examples/webhook_receiver.py 9000

The secret is the one that signs your jobs' webhooks: your API key's (`GET /v1/webhook-secret`, or as
`emoq keys create` printed it), or under `make run` the development secret (`emoq webhooks secret`).
"""

from __future__ import annotations

import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

verifier = Webhook(os.environ["EMOQ_WEBHOOK_SECRET"])
seen: set[str] = set()


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        try:
            event = verifier.verify(body, dict(self.headers))  # signature and timestamp freshness
        except WebhookVerificationError:
            self.send_response(400)
            self.end_headers()
            return
        # Deliveries are at least once: the webhook-id is stable across retries, so deduplicate on it.
        if self.headers["webhook-id"] not in seen:
            seen.add(self.headers["webhook-id"])
            data = event["data"]
            dominant = (data.get("result") or {}).get("dominant")
            print(event["type"], data["id"], dominant or data.get("counts") or data.get("error"), flush=True)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
    ThreadingHTTPServer(("127.0.0.1", port), Receiver).serve_forever()
