"""A training asked for through the API, run by a training worker from claim to registered model.

Claimed under a lease kept alive by a ``LeaseKeeper`` thread (an epoch may outlast the lease); every
epoch is recorded while the lease holds, and a lost lease (cancelled, or taken over) stops the run at the
next epoch. The checkpoint and plot are stored under keys derived from the training's id, then ONE
transaction marks the training succeeded and registers its model version, only if this worker still
holds it: a version is listed exactly when its training succeeded, never half-stored.

A training whose worker died restarts from scratch on its next delivery rather than from a mid-run
checkpoint: runs on the datasets this service takes are minutes long, and a restart gives the same model
for the same seed, where resuming would need optimiser and scheduler state kept in storage at every epoch.
"""

from __future__ import annotations

import contextlib
import io
import logging
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from shared.config import Settings
from shared.db import is_transient, session_scope
from shared.errors import EmoQError
from shared.jobs.lease import ClaimOutcome
from shared.models import ModelVersion, Training
from shared.registry.checkpoints import store_checkpoint
from shared.storage import Storage, store_file
from shared.trainings import lease, repository
from shared.trainings.keys import checkpoint_key_for, confusion_key_for, version_id_for
from worker.lease_keeper import LeaseKeeper
from worker.training.held_out import evaluate_held_out
from worker.training.manifest import labels_of, read_manifest, speakers_of
from worker.training.recipe import recipe_for
from worker.training.run import TrainingPlan, train_checkpoint
from worker.training.sources import base_checkpoint, write_dataset
from worker.training.trainer import EpochRecord, TrainingResult, TrainSettings

log = logging.getLogger(__name__)

# Epochs make the first 90 % of the progress; the evaluation and storing the rest.
TRAINING_SHARE = 0.9
MAX_PNG_BYTES = 10 * 1024 * 1024


class TrainingLost(Exception):
    """The training was cancelled or taken over: stop, and write nothing more."""


class WorkerStopping(Exception):
    """The worker is shutting down: hand the training back rather than hold up the stop."""


def run_training(
    training_id: uuid.UUID,
    *,
    storage: Storage,
    settings: Settings,
    shutting_down: Callable[[], bool] = lambda: False,
) -> ClaimOutcome:
    """Run the training if this delivery can claim it. Transient errors (the database away) propagate
    and the lease runs out, so the reconciler queues it again; any other error ends it as failed. Once
    ``shutting_down()`` says so, the training is handed back at its next epoch and sent again."""
    owner = uuid.uuid4().hex
    with session_scope() as session:
        outcome = lease.claim_training(
            session,
            training_id,
            owner=owner,
            lease_seconds=settings.job_lease_seconds,
            max_attempts=settings.max_attempts,
        )
        training = repository.get(session, training_id)
        if training is not None:
            session.expunge(training)
    if outcome is not ClaimOutcome.CLAIMED or training is None:
        return outcome
    log.info("training started", extra={"training_id": str(training_id), "attempt": training.attempts})
    try:
        with tempfile.TemporaryDirectory(prefix="emoq-training-") as scratch:
            _train_and_register(
                training,
                owner,
                storage=storage,
                settings=settings,
                scratch=Path(scratch),
                shutting_down=shutting_down,
            )
    except TrainingLost:
        log.info("training stopped: cancelled or taken over", extra={"training_id": str(training_id)})
    except WorkerStopping:
        with session_scope() as session:
            lease.release_training(session, training_id, owner)
        log.info("worker is stopping; training handed back", extra={"training_id": str(training_id)})
    except Exception as exc:
        if is_transient(exc):
            raise
        if isinstance(exc, EmoQError):
            code, message = exc.code, exc.message
        else:
            log.exception("training failed", extra={"training_id": str(training_id)})
            # The log has the traceback; the client gets no internals (paths, library messages).
            code, message = "training_failed", "the training hit an unexpected error"
        with session_scope() as session:
            lease.fail_training(session, training_id, owner, code=code, message=message)
    return ClaimOutcome.CLAIMED


class _LogLines(io.TextIOBase):
    """What the training loop prints (a line per epoch) as this module's log lines, not as the stray
    output Celery would log as warnings."""

    def write(self, text: str) -> int:
        for line in text.splitlines():
            if line.strip():
                log.info(line.strip())
        return len(text)


class _Progress:
    """The epochs so far, written at each epoch's end; the lease keeper renews with the progress."""

    def __init__(self, training: Training, owner: str, shutting_down: Callable[[], bool]) -> None:
        self.training_id = training.id
        self.owner = owner
        self.shutting_down = shutting_down
        self.total = int(training.params["epochs"])
        self.epochs: list[dict[str, float | int | None]] = []
        self.keeper: LeaseKeeper | None = None

    def fraction(self) -> dict[uuid.UUID, float]:
        return {self.training_id: TRAINING_SHARE * len(self.epochs) / self.total}

    def on_epoch(self, record: EpochRecord) -> None:
        self.epochs.append(
            {"epoch": record.epoch, "loss": record.loss, "validation_uar": record.validation_uar}
        )
        with session_scope() as session:
            held = lease.record_epochs(
                session, self.training_id, self.owner, self.epochs, self.fraction()[self.training_id]
            )
        if not held or (self.keeper is not None and self.keeper.lost()):
            raise TrainingLost
        if self.shutting_down():
            raise WorkerStopping


def _train_and_register(
    training: Training,
    owner: str,
    *,
    storage: Storage,
    settings: Settings,
    scratch: Path,
    shutting_down: Callable[[], bool],
) -> None:
    params = training.params
    manifest = write_dataset(storage, training.dataset_id, scratch / "data")
    progress = _Progress(training, owner, shutting_down)
    base = base_checkpoint(training.base_model, settings, storage, scratch)
    recipe = recipe_for(base)
    plan = TrainingPlan(
        manifest=manifest,
        output=scratch / "checkpoint",
        settings=TrainSettings(
            epochs=progress.total,
            batch_size=params["batch_size"],
            learning_rate=params["learning_rate"],
            seed=params["seed"],
            # Exactly the epochs asked for are reported; early stopping would cut the list short.
            patience=progress.total,
            augment=recipe.augment,
        ),
        init_from=base,
        config_preset=recipe.preset,
        conditioning=recipe.conditioning,
        hop_seconds=recipe.hop_seconds,
        test_speakers=params["test_speakers"],
        device=settings.device,
        command=f"POST /v1/trainings (training {training.id})",
        on_epoch=progress.on_epoch,
    )
    keeper = LeaseKeeper(
        owner,
        lease_seconds=settings.job_lease_seconds,
        progress_of=progress.fraction,
        table=Training,
    )
    progress.keeper = keeper
    with keeper, contextlib.redirect_stdout(_LogLines()):
        result = train_checkpoint(plan, report=log.info)
        held_out = evaluate_held_out(plan.output, manifest, params["test_speakers"], settings, scratch)
        store_file(storage, confusion_key_for(training.id), held_out.confusion_png, max_bytes=MAX_PNG_BYTES)
        blob = store_checkpoint(storage, checkpoint_key_for(training.id), plan.output)
    if keeper.lost():
        raise TrainingLost
    version = ModelVersion(
        id=version_id_for(training.id),
        owner_key_id=training.owner_key_id,
        training_id=training.id,
        dataset_id=training.dataset_id,
        name=params["name"],
        base_model=training.base_model,
        revision=blob.sha256,
        labels=held_out.labels,
        metrics=_metrics(held_out.evaluation, result),
        training_data=_training_data(training, manifest, params["test_speakers"]),
        storage_key=blob.key,
        size_bytes=blob.size,
    )
    with session_scope() as session:
        if not lease.complete_training(session, training.id, owner, version, held_out.evaluation):
            raise TrainingLost
    log.info("training succeeded", extra={"training_id": str(training.id), "uar": held_out.evaluation["uar"]})


def _metrics(evaluation: dict, result: TrainingResult) -> dict:
    """The held-out figures, with the validation UAR of the epoch whose weights were kept (the best by
    smoothed validation UAR, as `emoq train` selects)."""
    selected = next((r for r in result.history if r.epoch == result.selected_epoch), None)
    return {
        "uar": evaluation["uar"],
        "accuracy": evaluation["accuracy"],
        "macro_f1": evaluation["macro_f1"],
        "n": evaluation["n"],
        "selected_epoch": result.selected_epoch,
        "validation_uar": selected.validation_uar if selected else None,
    }


def _training_data(training: Training, manifest: Path, test_speakers: list[str]) -> dict:
    clips = read_manifest(manifest)
    return {
        "dataset_id": str(training.dataset_id),
        "clips": len(clips),
        "labels": labels_of(clips),
        "speakers": speakers_of(clips),
        "test_speakers": test_speakers,
        "params": {k: v for k, v in training.params.items() if k != "name"},
    }
