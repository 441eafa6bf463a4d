"""``emoq run | api | worker | migrate``: serving EmoQ."""

from __future__ import annotations

import argparse
import logging

from shared.config import get_settings

log = logging.getLogger("emoq")


def register(subparsers: argparse._SubParsersAction) -> None:
    run = subparsers.add_parser(
        "run", help="migrate, then serve the API and a worker, restarting the worker if it dies"
    )
    run.set_defaults(handler=_run)
    api = subparsers.add_parser("api", help="serve the HTTP API")
    api.add_argument("--host", default=None, help="default: EMOQ_API_HOST")
    api.add_argument("--port", type=int, default=None, help="default: EMOQ_API_PORT")
    api.set_defaults(handler=_api)
    worker = subparsers.add_parser("worker", help="run an inference worker")
    worker.add_argument("--concurrency", type=int, default=None, help="default: EMOQ_WORKER_CONCURRENCY")
    worker.set_defaults(handler=_worker)
    migrate = subparsers.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(handler=_migrate)


def _migrate(_: argparse.Namespace) -> None:
    from shared.logs import configure_logging
    from shared.migrate import upgrade_to_head

    configure_logging()
    upgrade_to_head()
    log.info("database is at the latest migration")


def _api(args: argparse.Namespace) -> None:
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=args.host or settings.api_host,
        port=args.port or settings.api_port,
        log_config=None,
        proxy_headers=True,
    )


def _worker(args: argparse.Namespace) -> None:
    from shared.broker import Queue, uses_filesystem_transport
    from worker.celery_app import app

    settings = get_settings()
    argv = [
        "worker",
        f"--loglevel={settings.log_level}",
        f"--queues={Queue.INFERENCE}",
        f"--concurrency={args.concurrency or settings.worker_concurrency}",
        "--optimization=fair",
    ]
    if uses_filesystem_transport(settings):
        # No broadcast channel on the filesystem transport: skip the cluster chatter that needs one.
        argv += ["--without-mingle", "--without-gossip", "--without-heartbeat"]
    app.worker_main(argv)


def _run(_: argparse.Namespace) -> int:
    from shared.cli.supervisor import Supervisor

    _migrate(argparse.Namespace())
    settings = get_settings()
    log.info("EmoQ at http://%s:%d (docs at /docs); Ctrl-C stops", settings.api_host, settings.api_port)
    return Supervisor(["api", "worker"]).run()
