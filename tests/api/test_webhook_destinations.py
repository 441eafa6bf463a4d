"""A webhook URL that could never be delivered is refused at submission, where the address is known."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from shared.config import Settings
from tests.api.conftest import bearer, new_key

AUDIO = "https://example.org/a.wav"


@pytest.mark.parametrize(
    "webhook_url",
    ["http://127.0.0.1:9/hook", "http://10.1.2.3/hook", "http://[::1]/hook", "http://localhost:8080/hook"],
)
def test_a_private_destination_is_refused_at_submission(secured_client: TestClient, webhook_url: str) -> None:
    key = bearer(new_key())
    job = secured_client.post("/v1/jobs", json={"audio_url": AUDIO, "webhook_url": webhook_url}, headers=key)
    batch = secured_client.post(
        "/v1/batches", json={"audio_urls": [AUDIO], "webhook_url": webhook_url}, headers=key
    )

    for answer in (job, batch):
        assert answer.status_code == 422 and answer.json()["code"] == "url_not_allowed", answer.text
    assert secured_client.get("/v1/jobs", headers=key).json()["items"] == []


def test_an_allowed_private_host_and_a_name_not_yet_resolvable_are_accepted(
    secured: Settings, secured_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(secured, "allowed_private_hosts", "10.0.0.0/8")
    key = bearer(new_key())
    for webhook_url in ("http://10.1.2.3/hook", "http://hooks.not-yet-in-dns.invalid/emoq"):
        answer = secured_client.post(
            "/v1/jobs", json={"audio_url": AUDIO, "webhook_url": webhook_url}, headers=key
        )
        assert answer.status_code == 202, answer.text


def test_loopback_development_accepts_a_receiver_on_this_machine(client: TestClient) -> None:
    answer = client.post("/v1/jobs", json={"audio_url": AUDIO, "webhook_url": "http://127.0.0.1:9/hook"})
    assert answer.status_code == 202, answer.text
