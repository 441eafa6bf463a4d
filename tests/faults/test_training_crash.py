"""Training workers killed with SIGKILL mid-run: the training ends exactly once, restarted from scratch
on another delivery or, out of attempts, failed as ``training_interrupted``, and its model version is
never listed before it has succeeded. Stopped with SIGTERM, a worker hands its training back at the next
epoch instead of holding up the stop."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.dataset_factory import write_corpus
from tests.faults.conftest import StackFactory
from tests.faults.harness import FaultStack
from tests.integration.stack import FINAL
from tests.training_stack import end_events, upload_corpus, versions_of, wait_training

pytestmark = pytest.mark.integration

# Enough that the first epoch's end (what the tests wait for) leaves the run well short of its end.
EPOCHS = 6
# Where no receiver listens: what counts is the event recorded when the training ends, once.
WEBHOOK_URL = "http://127.0.0.1:9/hook"


def start_training(stack: FaultStack, tmp_path: Path) -> str:
    """A training under way on the stack's trainer: its first epoch has ended."""
    stack.start_all("api", "trainer", "webhooks", "scheduler")
    stack.wait_api()
    dataset_id = upload_corpus(stack.client, write_corpus(tmp_path / "corpus", speakers=5))
    created = stack.client.post(
        "/v1/trainings", json={"dataset_id": dataset_id, "epochs": EPOCHS, "webhook_url": WEBHOOK_URL}
    )
    assert created.status_code == 202, created.text
    training_id = created.json()["id"]
    wait_training(stack.client, training_id, lambda t: len(t["epochs"]) >= 1, logs=stack.logs)
    return training_id


def start_training_and_kill_its_worker(stack: FaultStack, tmp_path: Path) -> str:
    training_id = start_training(stack, tmp_path)
    stack.kill("trainer")
    training = stack.client.get(f"/v1/trainings/{training_id}").json()
    assert training["status"] == "running" and len(training["epochs"]) < EPOCHS, training
    return training_id


def watch_until_final(stack: FaultStack, training_id: str, timeout: float = 180) -> dict:
    """Poll to the end, checking all along that a version is listed only once its training succeeded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # Versions first: a version seen means its (same) transaction marked the training succeeded.
        versions = versions_of(stack.engine, training_id)
        training = stack.client.get(f"/v1/trainings/{training_id}").json()
        assert not versions or training["status"] == "succeeded", (training, versions)
        if training["status"] in FINAL:
            return training
        time.sleep(0.1)
    raise AssertionError(f"training {training_id} never ended\n{stack.logs()}")


def test_kill_9_the_training_worker_and_the_training_restarts_and_ends_once(
    make_stack: StackFactory, tmp_path: Path
) -> None:
    stack = make_stack(EMOQ_TRAINING_METRICS_PORT="0", EMOQ_DEVICE="cpu")
    training_id = start_training_and_kill_its_worker(stack, tmp_path)
    killed_at = time.monotonic()

    stack.start("trainer")
    training = watch_until_final(stack, training_id)

    assert training["status"] == "succeeded", training
    # Its lease expired, the reconciler queued it again, and the second attempt trained from scratch.
    assert training["attempts"] == 2
    assert [epoch["epoch"] for epoch in training["epochs"]] == list(range(1, EPOCHS + 1))
    [version] = versions_of(stack.engine, training_id)
    assert str(version.id) == training["model_version_id"]
    assert end_events(stack.engine, training_id) == {"training.succeeded": 1}
    assert [e["outcome"] for e in stack.logged("abandoned training recovered")] == ["requeued"]
    print(f"\nkill -9 mid-training: succeeded {time.monotonic() - killed_at:.1f} s after the kill")


def test_a_training_whose_worker_dies_on_its_last_attempt_fails_with_a_code(
    make_stack: StackFactory, tmp_path: Path
) -> None:
    stack = make_stack(EMOQ_TRAINING_METRICS_PORT="0", EMOQ_DEVICE="cpu", EMOQ_MAX_ATTEMPTS="1")
    training_id = start_training_and_kill_its_worker(stack, tmp_path)

    training = watch_until_final(stack, training_id, timeout=60)

    assert training["status"] == "failed" and training["error"]["code"] == "training_interrupted", training
    assert training["model_version_id"] is None and versions_of(stack.engine, training_id) == []
    assert end_events(stack.engine, training_id) == {"training.failed": 1}


def test_sigterm_hands_the_training_back_at_the_next_epoch_and_the_next_worker_finishes_it(
    make_stack: StackFactory, tmp_path: Path
) -> None:
    stack = make_stack(EMOQ_TRAINING_METRICS_PORT="0", EMOQ_DEVICE="cpu")
    training_id = start_training(stack, tmp_path)

    asked = time.monotonic()
    stack.stop("trainer")  # SIGTERM to its main process, as a service manager or `docker stop` sends
    stopped_in = time.monotonic() - asked

    handed_back = stack.client.get(f"/v1/trainings/{training_id}").json()
    assert (handed_back["status"], handed_back["attempts"], handed_back["epochs"]) == ("queued", 0, [])
    assert stack.logged("worker is stopping; training handed back"), stack.logs()
    assert stopped_in < 20, stopped_in  # an epoch and a stop, not the rest of the training
    stack.start("trainer")
    training = watch_until_final(stack, training_id)
    assert (training["status"], training["attempts"]) == ("succeeded", 1), training
    assert len(versions_of(stack.engine, training_id)) == 1
    assert end_events(stack.engine, training_id) == {"training.succeeded": 1}
