"""Where a worker's metrics live and how they are served.

Celery's prefork children each count in their own memory. In prometheus-client's multiprocess mode every
process writes its values to files in one folder and the parent's endpoint adds them up. The folder must be
named before ``prometheus_client`` is first imported, so worker commands call ``use_multiprocess_dir``
before anything that defines a metric.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def use_multiprocess_dir() -> None:
    """A fresh folder for this process tree: counters start at zero, as Prometheus expects after a
    restart, and two workers on one host (or one volume) never mix their files."""
    if "prometheus_client" in sys.modules:
        # Its values would silently stay per process, and the endpoint would miss every child's counts.
        raise RuntimeError("prometheus_client was imported before the multiprocess folder was set")
    folder = Path(tempfile.mkdtemp(prefix="emoq-metrics-"))
    os.environ[MULTIPROC_ENV] = str(folder)
    atexit.register(_remove, folder, os.getpid())


def _remove(folder: Path, creator: int) -> None:
    # Forked children inherit the handler; only the process that made the folder removes it.
    if os.getpid() == creator:
        shutil.rmtree(folder, ignore_errors=True)


def serve_metrics(host: str, port: int, *, multiprocess: bool = True) -> None:
    """Serve ``/metrics`` on ``port`` (0: not at all): for this process and its children (a worker), or
    for this process alone (the API). A port already taken is logged, not fatal: the work goes on."""
    if port == 0:
        return
    from prometheus_client import REGISTRY, CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = REGISTRY
    if multiprocess:
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    try:
        start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        log.error("metrics not served: could not listen on %s:%d (%s)", host, port, exc.strerror)
        return
    log.info("metrics at http://%s:%d/metrics", host, port)
