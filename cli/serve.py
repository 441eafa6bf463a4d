"""``emoq run | api | worker | migrate``: serving EmoQ."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import dataclass
from functools import partial

from cli import webhook_secret
from shared.config import get_settings

log = logging.getLogger("emoq")


@dataclass(frozen=True)
class CeleryWorker:
    """What `emoq worker` and `emoq webhooks` differ in; they share everything else."""

    command: str
    help: str
    app_module: str
    queues: tuple[str, ...]  # values of shared.broker.Queue, which registration must not import
    concurrency: str  # the settings that give the defaults of --concurrency and --metrics-port
    metrics_port: str
    process_per_gpu: bool = False  # without EMOQ_WORKER_CONCURRENCY, one process per GPU
    # The queues are those of each model served (EMOQ_WORKER_MODELS): `queues` names their families.
    per_model: bool = False
    # Long computations that can wait a few milliseconds, unlike a request to the API on the same machine.
    yields_cpu: bool = False


CELERY_WORKERS = (
    CeleryWorker(
        "worker",
        "run an inference worker (single jobs and batches of the models in EMOQ_WORKER_MODELS, default all)",
        "worker.celery_app",
        ("inference", "bulk"),
        concurrency="worker_concurrency",
        metrics_port="worker_metrics_port",
        process_per_gpu=True,
        per_model=True,
        yields_cpu=True,
    ),
    CeleryWorker(
        "webhooks",
        "run a webhook delivery and housekeeping worker (no model)",
        "worker.webhook_app",
        ("webhooks", "maintenance"),
        concurrency="webhook_concurrency",
        metrics_port="webhooks_metrics_port",
    ),
    CeleryWorker(
        "trainer",
        "run a training worker (the training queue only: POST /v1/trainings)",
        "worker.training_app",
        ("training",),
        concurrency="training_concurrency",
        metrics_port="training_metrics_port",
        yields_cpu=True,
    ),
)


def register(subparsers: argparse._SubParsersAction) -> None:
    run = subparsers.add_parser(
        "run",
        help="migrate, then serve the API, a worker, webhooks, the scheduler and a trainer; restart what dies",
    )
    run.set_defaults(handler=_run)
    api = subparsers.add_parser("api", help="serve the HTTP API")
    api.add_argument("--host", default=None, help="default: EMOQ_API_HOST")
    api.add_argument("--port", type=int, default=None, help="default: EMOQ_API_PORT")
    api.set_defaults(handler=_api)
    workers = {}
    for kind in CELERY_WORKERS:
        worker = workers[kind.command] = subparsers.add_parser(kind.command, help=kind.help)
        for flag, setting in (("--concurrency", kind.concurrency), ("--metrics-port", kind.metrics_port)):
            worker.add_argument(flag, type=int, default=None, help=f"default: EMOQ_{setting.upper()}")
        worker.add_argument(
            "--name",
            default=None,
            help=f"Celery node name, unique among the broker's workers (default: {kind.queues[0]}@<host name>); "
            "give each of several workers on one host its own",
        )
        worker.set_defaults(handler=partial(_celery_worker, kind))
    webhook_secret.register(workers["webhooks"])
    scheduler = subparsers.add_parser(
        "scheduler", help="run the scheduler: due webhook retries, job reconciliation, retention (run one)"
    )
    scheduler.set_defaults(handler=_scheduler)
    migrate = subparsers.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(handler=_migrate)


def _migrate(_: argparse.Namespace) -> None:
    from shared.logs import configure_logging
    from shared.migrate import upgrade_to_head

    configure_logging()
    upgrade_to_head()
    log.info("database is at the latest migration")


def _api(args: argparse.Namespace) -> int:
    import uvicorn

    from shared.config import is_loopback_host
    from shared.logs import configure_logging
    from shared.metrics.process import serve_metrics

    settings = get_settings()
    host = args.host or settings.api_host
    if settings.auth_disabled and not is_loopback_host(host):
        # The same rule the settings enforce for EMOQ_API_HOST, which --host would otherwise get around.
        log.error("refusing to serve on %s with EMOQ_AUTH_DISABLED=true: use a loopback address", host)
        return 2
    configure_logging()
    # Apart from the API's port: a client that can reach the API cannot read the service's figures.
    serve_metrics(settings.metrics_host, settings.metrics_port, multiprocess=False)
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=host,
        port=args.port or settings.api_port,
        log_config=None,
        proxy_headers=True,
    )
    return 0


def _celery_worker(kind: CeleryWorker, args: argparse.Namespace) -> None:
    """A Celery worker named after its first queue family (``inference@host``, ``webhooks@host``)."""
    import importlib
    import socket

    from shared.broker import Queue, analysis_queues, uses_filesystem_transport
    from shared.logs import configure_logging
    from shared.metrics.process import serve_metrics, use_multiprocess_dir

    configure_logging()  # Celery sets it up again when it starts; what happens before must be seen too
    settings = get_settings()
    if kind.yields_cpu:
        # Where the API shares the machine (`emoq run`, a small host), a submit or a poll then runs as
        # soon as it arrives instead of waiting for its turn between forward passes: a request costs
        # milliseconds, so the workers lose almost nothing. Inherited by the pool's processes.
        os.nice(settings.worker_nice)
    use_multiprocess_dir()  # before the app module imports the code that defines metrics
    app = importlib.import_module(kind.app_module).app
    queues = (
        analysis_queues(settings.worker_model_names)
        if kind.per_model
        else [Queue(name).value for name in kind.queues]
    )
    # Not `flag or setting` for the port: --metrics-port 0 turns metrics off.
    port = getattr(settings, kind.metrics_port) if args.metrics_port is None else args.metrics_port
    serve_metrics(settings.metrics_host, port)
    concurrency = args.concurrency or getattr(settings, kind.concurrency)
    if kind.process_per_gpu and not args.concurrency:
        from worker.devices import pool_size

        concurrency = pool_size(settings)
    argv = [
        "worker",
        f"--loglevel={settings.log_level}",
        f"--queues={','.join(queues)}",
        f"--concurrency={concurrency}",
        f"--hostname={args.name or f'{kind.queues[0]}@{socket.gethostname()}'}",
        "--optimization=fair",
    ]
    if uses_filesystem_transport(settings):
        # No broadcast channel on the filesystem transport: skip the cluster chatter that needs one.
        argv += ["--without-mingle", "--without-gossip", "--without-heartbeat"]
    app.worker_main(argv)


def _scheduler(_: argparse.Namespace) -> None:
    from worker.webhook_app import app

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    schedule = settings.data_dir / "celerybeat-schedule"
    app.start(["beat", f"--loglevel={settings.log_level}", f"--schedule={schedule}"])


def _announce_development_secret() -> None:
    """Shown once per start, on the terminal only: printed, not logged, so no log file ever holds it."""
    from shared.webhooks.server_secret import (
        development_secret,
        development_secret_path,
        uses_development_secret,
    )

    settings = get_settings()
    if not uses_development_secret(settings):
        return
    secret, _ = development_secret(settings)
    print(
        f"Webhooks are signed with the development secret {secret}\n"
        f"  kept in {development_secret_path(settings).resolve()}; "
        "`emoq webhooks secret` prints it, `--rotate` replaces it",
        file=sys.stderr,
        flush=True,
    )


def _run(_: argparse.Namespace) -> int:
    from cli.supervisor import Supervisor

    _migrate(argparse.Namespace())
    settings = get_settings()
    log.info(
        "EmoQ at http://%s:%d/ (API docs at /docs; metrics at http://%s:%d/metrics); Ctrl-C stops",
        settings.api_host,
        settings.api_port,
        settings.metrics_host,
        settings.metrics_port,
    )
    _announce_development_secret()
    # The API first, so that nothing new is accepted while the rest stops, all at once: the worker hands
    # its running jobs back, the webhook worker finishes the deliveries under way.
    return Supervisor(
        ["api", "worker", "webhooks", "scheduler", "trainer"],
        stop_order=[["api"], ["worker", "webhooks", "scheduler", "trainer"]],
    ).run()
