"""Where a worker's time goes per job: pyinstrument over the task's own path, without the broker.

    .venv/bin/python benchmarks/worker_profile.py                     # 60 EmoDB clips, shipped model
    .venv/bin/python benchmarks/worker_profile.py --jobs 20 --batch-size 1 --html profile.html

Queues ``--jobs`` jobs (EmoDB clips when ../shared/data is there, else synthetic voice) in a migrated
SQLite database in a temporary folder, then runs ``analyze_job`` for each job id in order, as the
worker's task does for each message: the first claims and batches the others, the later ones find their
job finished and return. Prints the wall time per job and pyinstrument's call tree.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
EMODB = REPO.parent / "shared" / "data" / "emodb"


def clips(count: int) -> list[np.ndarray]:
    paths = sorted(EMODB.glob("*.flac"))[:count]
    if paths:
        return [sf.read(path, dtype="float32")[0] for path in paths]
    rng = np.random.default_rng(0)
    t = np.arange(32000) / 16000
    return [
        (0.3 * np.sin(2 * np.pi * (140 + 30 * rng.random()) * t)).astype(np.float32) for _ in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=None, help="EMOQ_INFERENCE_BATCH_SIZE")
    parser.add_argument("--html", type=Path, default=None, help="also write pyinstrument's HTML here")
    args = parser.parse_args()

    from pyinstrument import Profiler

    folder = Path(tempfile.mkdtemp(prefix="emoq-profile-"))
    os.environ["EMOQ_DATA_DIR"] = str(folder / "var")
    if args.batch_size:
        os.environ["EMOQ_INFERENCE_BATCH_SIZE"] = str(args.batch_size)

    from shared.config import get_settings
    from shared.db import session_scope
    from shared.migrate import upgrade_to_head
    from shared.models import Job, JobStatus
    from shared.models.base import utcnow
    from shared.storage import get_storage, storage_key
    from worker.analysis import analyze_job
    from worker.runtime import get_classifier

    upgrade_to_head()
    settings, storage = get_settings(), get_storage()
    classifier = get_classifier(settings.default_model)
    job_ids = []
    for i, wave in enumerate(clips(args.jobs)):
        job_id = uuid.uuid4()
        sf.write(folder / f"{i}.wav", wave, 16000, subtype="PCM_16")
        writer = storage.writer(storage_key(job_id), max_bytes=10**8)
        writer.write((folder / f"{i}.wav").read_bytes())
        key = writer.commit().key
        with session_scope() as session:
            session.add(
                Job(
                    id=job_id,
                    status=JobStatus.QUEUED,
                    audio_key=key,
                    duration_s=len(wave) / 16000,
                    enqueued_at=utcnow(),
                )
            )
        job_ids.append(job_id)

    profiler = Profiler(interval=0.0005)
    started = time.perf_counter()
    with profiler:
        for job_id in job_ids:
            analyze_job(
                job_id,
                model=settings.default_model,
                classifier=classifier,
                storage=storage,
                settings=settings,
            )
    wall = time.perf_counter() - started
    print(
        f"{len(job_ids)} jobs in {wall:.2f} s: {1000 * wall / len(job_ids):.1f} ms per job", file=sys.stderr
    )
    print(profiler.output_text(unicode=True, show_all=False))
    if args.html:
        args.html.write_text(profiler.output_html())


if __name__ == "__main__":
    main()
