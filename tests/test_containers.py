"""The images and the compose file keep containers small in power: non-root users, read-only roots,
no capabilities, no privilege gain, health checks, no default passwords, nothing published by accident."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILES = ("Dockerfile.api", "Dockerfile.worker")
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
EMOQ_SERVICES = {"api", "worker", "webhooks", "scheduler", "worker-gpu"}


def final_user(dockerfile: str) -> str | None:
    users = re.findall(r"^USER\s+(\S+)", (ROOT / dockerfile).read_text(), re.MULTILINE)
    return users[-1] if users else None


def test_images_run_as_a_user_that_is_not_root() -> None:
    for dockerfile in DOCKERFILES:
        text = (ROOT / dockerfile).read_text()
        user = final_user(dockerfile)
        assert user is not None and user not in {"root", "0"}, dockerfile
        assert re.search(rf"useradd --uid (\d+) .*{user}", text), f"{dockerfile} does not create {user}"
        # Nothing after USER runs as root again.
        assert "USER root" not in text.split(f"USER {user}")[-1]


def test_emoq_containers_have_read_only_roots_no_capabilities_and_no_privilege_gain() -> None:
    assert set(SERVICES) >= EMOQ_SERVICES
    for name in EMOQ_SERVICES:
        service = SERVICES[name]
        assert service["read_only"] is True, name
        assert "/tmp" in service["tmpfs"], name
        assert service["cap_drop"] == ["ALL"] and "cap_add" not in service, name
        assert "no-new-privileges:true" in service["security_opt"], name
        assert not service.get("privileged") and service.get("user") in (None, "10001"), name


def test_workers_on_another_host_are_confined_like_those_on_the_first() -> None:
    remote = yaml.safe_load((ROOT / "docker-compose.workers.yml").read_text())["services"]
    for name, service in remote.items():
        assert service["read_only"] is True and service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"] and "healthcheck" in service, name
        assert service["environment"]["EMOQ_SECRET_KEY"].startswith("${EMOQ_SECRET_KEY:?"), name


def test_every_container_drops_capabilities_and_cannot_gain_privileges() -> None:
    for name, service in SERVICES.items():
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name
        assert not service.get("privileged"), name
    # The databases get back only what their entrypoints need to hand their folders to their users.
    assert set(SERVICES["postgres"]["cap_add"]) <= {"CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"}
    assert set(SERVICES["redis"]["cap_add"]) <= {"CHOWN", "SETGID", "SETUID"}


def test_every_long_running_container_has_a_health_check() -> None:
    image_checks = {"api": "HEALTHCHECK" in (ROOT / "Dockerfile.api").read_text()}
    for name, service in SERVICES.items():
        if service.get("restart") == "no":
            continue  # a one-shot job (the bucket's creation): nothing to watch once it has run
        assert "healthcheck" in service or image_checks.get(name), f"{name} has no health check"


def test_no_password_or_secret_has_a_default() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    assert "${POSTGRES_PASSWORD:?" in text and "${EMOQ_SECRET_KEY:?" in text
    for variable, operator in re.findall(r"\$\{(\w*(?:PASSWORD|SECRET)\w*)(:?[-?])", text):
        # Grafana's admin password is the exception: unset, Grafana forces a change at the first login.
        if variable != "GRAFANA_ADMIN_PASSWORD":
            assert operator == ":?", f"{variable} falls back to a default"


def test_only_the_api_is_published_beyond_this_host() -> None:
    for name, service in SERVICES.items():
        for port in service.get("ports", []):
            # The servers bind loopback unless the operator names a private address for remote workers.
            loopback = str(port).startswith(("127.0.0.1:", "${SERVERS_BIND_ADDRESS:-127.0.0.1}:"))
            assert name == "api" or loopback, f"{name} publishes {port}"
    assert SERVICES["api"]["ports"] == ["${EMOQ_PUBLISH_PORT:-8000}:8000"]
