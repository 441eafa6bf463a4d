"""A real S3 API over HTTP for the tests: moto's server mode in its own process, buckets made per test."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
import httpx

from shared.config import Settings
from shared.storage.s3 import s3_client

# moto accepts any credentials; these keep boto3 from looking for real ones on the machine.
CREDENTIALS = {"EMOQ_S3_ACCESS_KEY_ID": "testing", "EMOQ_S3_SECRET_ACCESS_KEY": "testing"}
REGION = "us-east-1"


class MotoServer:
    def __init__(self, log: Path, port: int) -> None:
        self.endpoint = f"http://127.0.0.1:{port}"
        self._log = log.open("ab")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.endpoint}/moto-api/", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.2)
        self.close()
        raise AssertionError(f"moto's S3 server did not start; see {log}")

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def new_bucket(self) -> str:
        name = f"emoq-test-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def env(self, bucket: str, prefix: str = "audio") -> dict[str, str]:
        """What a service started against this server needs, as environment variables."""
        return {
            **CREDENTIALS,
            "EMOQ_STORAGE_URL": f"s3://{bucket}/{prefix}",
            "EMOQ_S3_ENDPOINT_URL": self.endpoint,
            "EMOQ_S3_REGION": REGION,
        }

    def close(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._log.close()


def object_names(settings: Settings) -> list[str]:
    """Every object under the store's prefix, for tests that check nothing is left behind."""
    bucket, _, prefix = settings.storage_url.removeprefix("s3://").partition("/")
    client = s3_client(settings)
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]
