"""Several models, one service: each job is answered by the model it asked for, through the real service.

Two config-built checkpoints are served as ``fast`` and ``accurate``: by ``emoq run`` (one worker loads
both) and by two workers on PostgreSQL and Redis, each loading one model and reading only its queues.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.audio_factory import write_tone
from tests.integration.conftest import servers_env
from tests.integration.stack import Stack, free_port
from tests.integration.test_client_cli import emoq
from tests.model_factory import save_tiny_checkpoint

pytestmark = pytest.mark.integration

MODELS = ("fast", "accurate")


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    made = {
        name: save_tiny_checkpoint(tmp_path_factory.mktemp(f"tiny-{name}"), seed=seed)
        for seed, name in enumerate(MODELS)
    }
    # The accurate model's folder sets how one of its labels is shown.
    config_path = made["accurate"] / "config.json"
    config = json.loads(config_path.read_text())
    config["emoq_display"] = {"sad": {"color": "#123456", "emoji": "🌧️", "mood": "rainy"}}
    config_path.write_text(json.dumps(config))
    return made


@pytest.fixture(scope="module", params=["embedded", "postgres+redis"])
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, checkpoints: dict[str, Path]
) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp(f"models-{request.param}")
    env = {
        "EMOQ_DATA_DIR": str(root / "var"),
        "EMOQ_MODELS": ",".join(f"{name}={path}" for name, path in checkpoints.items()),
        "EMOQ_WINDOW_SECONDS": "0.25",
        "EMOQ_WORKER_CONCURRENCY": "1",
        "EMOQ_WEBHOOKS_METRICS_PORT": str(free_port()),
        "EMOQ_METRICS_PORT": str(free_port()),
    }
    with ExitStack() as cleanup:
        if request.param != "embedded":
            env |= cleanup.enter_context(servers_env(request.param, request))
        running = Stack(root, {**env, "EMOQ_WORKER_METRICS_PORT": str(free_port())})
        cleanup.callback(running.close)
        if request.param == "embedded":
            running.start("emoq-run", "run")
        else:
            running.emoq("migrate")
            running.start("api", "api")
            for name in MODELS:
                # Each worker loads one model and reads only that model's queues.
                running.start(
                    f"worker-{name}",
                    "worker",
                    "--name",
                    f"{name}@test",
                    EMOQ_WORKER_MODELS=name,
                    EMOQ_WORKER_METRICS_PORT=str(free_port()),
                )
        running.wait_ready()
        yield running


def test_each_job_is_answered_by_the_model_it_asked_for(stack: Stack, tmp_path: Path) -> None:
    clips = [write_tone(tmp_path / f"{i}.wav", fmt="wav", seconds=1.0, freq=220 + 40 * i) for i in range(8)]
    asked = [MODELS[i % 2] for i in range(len(clips) - 1)] + [None]
    # Sent together, so jobs of both models wait at once while the workers fill their passes.
    ids = [
        stack.submit(clip, **({"model": model} if model else {})).json()["id"]
        for clip, model in zip(clips, asked, strict=True)
    ]
    batch = stack.client.post(
        "/v1/batches",
        files=[("files", (clip.name, clip.read_bytes())) for clip in clips[:3]],
        data={"model": "accurate"},
    ).json()

    jobs = [stack.wait_for(job_id, timeout=120) for job_id in ids + batch["job_ids"]]

    assert {job["status"] for job in jobs} == {"succeeded"}, stack.logs()
    expected = [model or "fast" for model in asked] + ["accurate"] * 3  # no model: the first, fast
    assert [job["model"] for job in jobs] == expected
    assert [job["result"]["model"]["name"] for job in jobs] == expected
    # The identity of the checkpoint that scored it: its folder, tiny-fast… or tiny-accurate…
    assert all(job["result"]["model"]["id"].startswith(f"tiny-{job['model']}") for job in jobs)
    table = stack.client.get(f"/v1/batches/{batch['id']}/results", headers={"Accept": "text/csv"}).text
    assert [row["model"] for row in csv.DictReader(io.StringIO(table))] == ["accurate"] * 3


def test_an_unknown_model_is_refused_with_the_known_names(stack: Stack, tmp_path: Path) -> None:
    refused = stack.submit(write_tone(tmp_path / "a.wav", fmt="wav"), model="huge")

    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert (refused.json()["code"], refused.json()["models"]) == ("unknown_model", list(MODELS))


def test_the_models_are_listed_with_how_their_labels_are_shown(stack: Stack) -> None:
    listed = {model["name"]: model for model in stack.client.get("/v1/models").json()["models"]}

    assert list(listed) == list(MODELS)
    assert [listed[name]["default"] for name in MODELS] == [True, False]
    assert all(listed[name]["served"] and listed[name]["precision"] == "fp32" for name in MODELS)
    fast, accurate = listed["fast"]["display"], listed["accurate"]["display"]
    assert fast["sad"] == {"color": "#2f55c4", "emoji": "😢", "mood": "melancholic"}
    assert accurate["sad"] == {"color": "#123456", "emoji": "🌧️", "mood": "rainy"}
    assert accurate["happy"] == fast["happy"], "labels the folder does not mention keep the defaults"


def test_the_client_asks_for_a_model_and_says_which_answered(stack: Stack, tmp_path: Path) -> None:
    clip = write_tone(tmp_path / "hello.wav", fmt="wav", seconds=0.8)

    done = emoq(f"http://127.0.0.1:{stack.port}", "submit", str(clip), "--model", "accurate", "--wait")
    refused = emoq(f"http://127.0.0.1:{stack.port}", "submit", str(clip), "--model", "huge")

    assert done.returncode == 0, done.stderr
    assert "[accurate: tiny-accurate" in done.stdout.splitlines()[1]
    assert refused.returncode == 2 and "unknown_model" in refused.stderr
