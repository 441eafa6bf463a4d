"""The README, the compose file and the Dockerfiles describe the settings and files that really exist."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from shared.cli.client import ClientSettings
from shared.config import Settings

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = {f"EMOQ_{name.upper()}" for name in Settings.model_fields}
CLIENT_SETTINGS = {f"EMOQ_{name.upper()}" for name in ClientSettings.model_fields}


def test_every_setting_is_documented_in_the_readme_and_nothing_else_is() -> None:
    documented = set(re.findall(r"^\| `(EMOQ_[A-Z_]+)`", (ROOT / "README.md").read_text(), re.MULTILINE))

    assert documented == SETTINGS | CLIENT_SETTINGS


def test_compose_sets_only_real_settings_and_wires_the_services() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]

    for name, service in services.items():
        for key in service.get("environment", {}):
            assert not key.startswith("EMOQ_") or key in SETTINGS, f"{name} sets unknown {key}"
        for volume in service.get("volumes", []):
            assert volume.split(":")[0] in compose["volumes"]
    assert {"postgres", "redis", "api", "worker", "worker-gpu"} <= set(services)
    assert all("healthcheck" in services[s] for s in ("postgres", "redis"))
    assert services["worker"]["depends_on"]["api"]["condition"] == "service_healthy"
    gpu = services["worker-gpu"]
    assert gpu["profiles"] == ["gpu"]
    assert gpu["deploy"]["resources"]["reservations"]["devices"][0]["driver"] == "nvidia"
    assert gpu["environment"]["EMOQ_DEVICE"] == "cuda"


def test_dockerfiles_copy_what_exists_and_keep_torch_out_of_the_api() -> None:
    for dockerfile in ("Dockerfile.api", "Dockerfile.worker"):
        text = (ROOT / dockerfile).read_text()
        for source in re.findall(r"^COPY (\S+) ", text, re.MULTILINE):
            for path in source.split():
                assert (ROOT / path).exists(), f"{dockerfile} copies missing {path}"
    assert "torch" not in (ROOT / "Dockerfile.api").read_text().split("No torch")[1].lower()
    assert 'pip install -e ".[worker]"' in (ROOT / "Dockerfile.worker").read_text()
