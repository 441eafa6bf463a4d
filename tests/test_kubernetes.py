"""The Kubernetes manifests: every overlay renders with kustomize, every object is valid against the
Kubernetes API schemas (offline, kubernetes-validate), and what they configure exists in EmoQ."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from shared.broker import analysis_queues
from shared.config import Settings

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
LAYERS = [K8S / "base", *sorted(p for p in (K8S / "overlays").iterdir() if p.is_dir())]
SETTINGS = {f"EMOQ_{name.upper()}" for name in Settings.model_fields}
# The oldest Kubernetes release still commonly run; the manifests use nothing newer.
KUBERNETES_VERSION = "1.30.0"
COMMANDS = {"api", "worker", "webhooks", "scheduler", "migrate", "trainer"}


def render(layer: Path) -> list[dict[str, Any]]:
    if shutil.which("kubectl") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but kubectl (which renders kustomize) is not installed")
        pytest.skip("kubectl is not installed")
    built = subprocess.run(
        ["kubectl", "kustomize", str(layer)], check=True, capture_output=True, text=True, timeout=60
    )
    return [doc for doc in yaml.safe_load_all(built.stdout) if doc]


@pytest.fixture(scope="module", params=LAYERS, ids=lambda p: p.name)
def objects(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return render(request.param)


def by_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def pod_specs(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        o["metadata"]["name"]: o["spec"]["template"]["spec"]
        for o in objects
        if o["kind"] in {"Deployment", "Job"}
    }


def test_every_kubernetes_object_is_valid_against_the_api_schemas(objects: list[dict[str, Any]]) -> None:
    core = [o for o in objects if not o["apiVersion"].startswith("keda.sh/")]

    for manifest in core:
        # strict: a misspelt or misplaced field is an error, not silently dropped.
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    assert {o["kind"] for o in core} >= {"Deployment", "Service", "PodDisruptionBudget", "Job", "ConfigMap"}


def test_every_emoq_variable_they_set_is_a_real_setting(objects: list[dict[str, Any]]) -> None:
    names = [key for config in by_kind(objects, "ConfigMap").values() for key in config["data"]]
    for spec in pod_specs(objects).values():
        names += [var["name"] for container in spec["containers"] for var in container.get("env", [])]

    assert names
    assert {name for name in names if name.startswith("EMOQ_")} <= SETTINGS
    assert all(name.startswith("EMOQ_") for name in names)


def test_containers_run_emoq_commands_that_exist(objects: list[dict[str, Any]]) -> None:
    for name, spec in pod_specs(objects).items():
        for container in spec["containers"]:
            program, command = container["command"]
            assert program == "emoq" and command in COMMANDS, name


def test_the_api_has_probes_on_its_health_routes_and_a_disruption_budget(
    objects: list[dict[str, Any]],
) -> None:
    health = (ROOT / "api" / "routes" / "health.py").read_text()
    [api] = pod_specs(objects)["emoq-api"]["containers"]

    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        assert api[probe]["httpGet"]["path"] == path and f'"{path}"' in health
    [budget] = by_kind(objects, "PodDisruptionBudget").values()
    labels = by_kind(objects, "Deployment")["emoq-api"]["spec"]["template"]["metadata"]["labels"]
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_workers_have_their_pools_and_time_to_hand_jobs_back(objects: list[dict[str, Any]]) -> None:
    specs = pod_specs(objects)
    cpu, gpu = specs["emoq-worker-cpu"], specs["emoq-worker-gpu"]

    assert cpu["nodeSelector"] and gpu["nodeSelector"]
    assert gpu["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    for spec in (cpu, gpu):
        assert spec["terminationGracePeriodSeconds"] >= 60
    scheduler = by_kind(objects, "Deployment")["emoq-scheduler"]["spec"]
    assert scheduler["replicas"] == 1 and scheduler["strategy"]["type"] == "Recreate"


def test_keda_scales_the_workers_on_their_queues(objects: list[dict[str, Any]]) -> None:
    """ScaledObject is KEDA's resource, outside the Kubernetes schemas: its essentials are checked here."""
    deployments = by_kind(objects, "Deployment")
    scaled = by_kind(objects, "ScaledObject")
    models = by_kind(objects, "ConfigMap")["emoq"]["data"].get("EMOQ_MODELS", "")

    assert set(scaled) == {"emoq-worker-cpu", "emoq-worker-gpu"}
    for obj in scaled.values():
        spec = obj["spec"]
        assert obj["apiVersion"] == "keda.sh/v1alpha1"
        assert spec["scaleTargetRef"]["name"] in deployments
        assert 0 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
        queues = set()
        for trigger in spec["triggers"]:
            meta = trigger["metadata"]
            if trigger["type"] == "redis":
                queues.add(meta["listName"])
                assert re.fullmatch(r"[\w.-]+:\d+", meta["address"]) and int(meta["listLength"]) > 0
            else:
                assert trigger["type"] == "rabbitmq" and meta["mode"] == "QueueLength"
                assert meta["hostFromEnv"] in SETTINGS and int(meta["value"]) > 0
                queues.add(meta["queueName"])
        # The queues of the models the scaled workers serve (EMOQ_MODELS, their EMOQ_WORKER_MODELS).
        [worker] = pod_specs(objects)[spec["scaleTargetRef"]["name"]]["containers"]
        env = {var["name"]: var.get("value", "") for var in worker.get("env", [])}
        served = Settings(models=models, worker_models=env.get("EMOQ_WORKER_MODELS", ""))
        assert queues == set(analysis_queues(served.worker_model_names))


def test_the_overlays_do_what_they_say() -> None:
    scale_to_zero = by_kind(render(K8S / "overlays" / "scale-to-zero"), "ScaledObject")
    rabbitmq = by_kind(render(K8S / "overlays" / "rabbitmq"), "ScaledObject")
    several = pod_specs(render(K8S / "overlays" / "several-models"))

    assert all(obj["spec"]["minReplicaCount"] == 0 for obj in scale_to_zero.values())
    assert {t["type"] for obj in rabbitmq.values() for t in obj["spec"]["triggers"]} == {"rabbitmq"}
    served = {
        name: {var["name"]: var.get("value") for var in several[name]["containers"][0]["env"]}[
            "EMOQ_WORKER_MODELS"
        ]
        for name in ("emoq-worker-cpu", "emoq-worker-gpu")
    }
    assert served == {"emoq-worker-cpu": "fast", "emoq-worker-gpu": "accurate"}
