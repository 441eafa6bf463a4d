"""The README and docs/, the compose file and the Dockerfiles describe the settings and files that really exist."""

from __future__ import annotations

import json
import re
from pathlib import Path

import promql_parser
import pytest
import yaml

from cli.client import ClientSettings
from cli.serve import CELERY_WORKERS
from shared.broker import Queue
from shared.config import Settings

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = {f"EMOQ_{name.upper()}" for name in Settings.model_fields}
CLIENT_SETTINGS = {f"EMOQ_{name.upper()}" for name in ClientSettings.model_fields}


DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_every_setting_is_documented_once_and_nothing_else_is() -> None:
    rows = [
        name
        for document in DOCUMENTS
        for name in re.findall(r"^\| `(EMOQ_[A-Z0-9_]+)`", document.read_text(), re.MULTILINE)
    ]

    assert sorted(rows) == sorted(SETTINGS | CLIENT_SETTINGS)


def test_links_between_the_documents_lead_somewhere() -> None:
    for document in DOCUMENTS:
        for target in re.findall(r"\]\(([^)#:]+\.md)(?:#[^)]*)?\)", document.read_text()):
            assert (document.parent / target).is_file(), f"{document.name} links to missing {target}"


COMPOSE_FILES = ("docker-compose.yml", "docker-compose.workers.yml")


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_compose_sets_only_real_settings_and_mounts_what_exists(name: str) -> None:
    compose = yaml.safe_load((ROOT / name).read_text())

    for service_name, service in compose["services"].items():
        for key in service.get("environment", {}):
            assert not key.startswith("EMOQ_") or key in SETTINGS, f"{service_name} sets unknown {key}"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{service_name} mounts missing {source}"
            else:
                assert source in compose["volumes"], f"{service_name} mounts undeclared volume {source}"


def test_the_services_share_no_disk_only_the_servers() -> None:
    """Audio goes through the object store: no volume is mounted by two services, so any of them may run
    on another host (docker-compose.workers.yml does that for workers)."""
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    mounts = [
        (volume.split(":")[0], name)
        for name, service in services.items()
        for volume in service.get("volumes", [])
        if not volume.startswith("./")
    ]
    owners = {source: [name for s, name in mounts if s == source] for source, _ in mounts}

    assert all(len(names) == 1 for names in owners.values()), owners
    assert services["api"]["depends_on"]["minio-init"]["condition"] == "service_completed_successfully"
    remote = yaml.safe_load((ROOT / "docker-compose.workers.yml").read_text())
    assert remote["x-emoq-environment"]["EMOQ_STORAGE_URL"].startswith("s3://")
    assert "${SERVERS_HOST" in remote["x-emoq-environment"]["EMOQ_BROKER_URL"]


def test_compose_wires_the_services() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "minio", "api", "worker", "worker-gpu", "worker-training"} <= set(services)
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


def test_prometheus_scrapes_the_ports_the_services_serve_metrics_on() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    scrape = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    default = {name: field.default for name, field in Settings.model_fields.items()}
    expected = {
        "api": default["metrics_port"],
        "worker": default["worker_metrics_port"],
        "worker-gpu": default["worker_metrics_port"],
        "webhooks": default["webhooks_metrics_port"],
        "worker-training": default["training_metrics_port"],
    }

    targets = {
        name: sd["port"]
        for job in scrape["scrape_configs"]
        for sd in job["dns_sd_configs"]
        for name in sd["names"]
    }

    assert targets == expected
    assert set(targets) <= set(compose["services"])
    assert compose["services"]["prometheus"]["profiles"] == ["monitoring"]
    assert compose["x-emoq-environment"]["EMOQ_METRICS_HOST"] == "0.0.0.0"


def defined_metric_names() -> set[str]:
    """Every metric the code defines, with the series names Prometheus derives from histograms."""
    names: set[str] = set()
    for source in (ROOT / folder for folder in ("api", "shared", "worker")):
        for path in source.rglob("*.py"):
            names |= set(re.findall(r'"(emoq_[a-z_]+)"', path.read_text()))
    return names | {f"{name}_{suffix}" for name in names for suffix in ("bucket", "sum", "count")}


def assert_valid_promql_over_real_metrics(expr: str) -> None:
    promql_parser.parse(expr.replace("$__rate_interval", "5m"))
    undefined = set(re.findall(r"\b(emoq_[a-z_]+)", expr)) - defined_metric_names()
    assert not undefined, f"{expr} uses undefined {undefined}"


def test_the_dashboard_queries_are_valid_promql_over_metrics_that_exist() -> None:
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "emoq-dashboard.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]

    assert len(exprs) >= 15
    for expr in exprs:
        assert "emoq_" in expr
        assert_valid_promql_over_real_metrics(expr)


def test_alert_rules_are_loaded_and_valid_promql_over_metrics_that_exist() -> None:
    scrape = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    prometheus = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["prometheus"]
    rules = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())

    assert scrape["rule_files"] == ["/etc/prometheus/alerts.yml"]
    assert "./deploy/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro" in prometheus["volumes"]
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    assert len(alerts) >= 5
    for rule in alerts:
        assert rule["alert"].startswith("EmoQ") and rule["annotations"]["summary"]
        assert_valid_promql_over_real_metrics(rule["expr"])


def test_worker_commands_name_real_settings_and_queues() -> None:
    for kind in CELERY_WORKERS:
        assert {kind.concurrency, kind.metrics_port} <= set(Settings.model_fields), kind.command
        assert [Queue(name).value for name in kind.queues] == list(kind.queues)
    assert {queue for kind in CELERY_WORKERS for queue in kind.queues} == {queue.value for queue in Queue}
