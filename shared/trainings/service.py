"""Trainings as clients ask for them: accepted, read and cancelled by their owner. The functions flush;
the caller commits, and the training is sent to its queue only after that commit."""

from __future__ import annotations

import logging
import uuid

import numpy as np
from sqlalchemy.orm import Session

from shared.auth.caller import Caller
from shared.config import Settings
from shared.datasets import repository as datasets
from shared.datasets.service import get_dataset
from shared.db import after_commit
from shared.errors import Conflict, InvalidRequest, NotFound
from shared.models import Training, TrainingStatus
from shared.models.base import utcnow
from shared.registry import repository as versions
from shared.schemas.trainings import TrainingCreate
from shared.trainings import repository
from shared.trainings.ending import training_ended
from shared.trainings.queue import enqueue_training

log = logging.getLogger(__name__)

# The share of speakers held out for the final evaluation when the request names none.
TEST_FRACTION = 0.2


def create_training(
    session: Session, settings: Settings, caller: Caller, request: TrainingCreate
) -> Training:
    """Check what can be checked now (the dataset is the caller's and has speakers to hold out, the base
    model exists, the epochs are within bounds), record the training and queue it after the commit."""
    # Held shared until the commit: a deletion of the dataset waits, then sees this training reads it.
    dataset = get_dataset(session, caller, request.dataset_id, lock="key_share")
    epochs = request.epochs or min(settings.training_default_epochs, settings.training_max_epochs)
    if epochs > settings.training_max_epochs:
        raise InvalidRequest(
            f"epochs may be at most {settings.training_max_epochs} (EMOQ_TRAINING_MAX_EPOCHS)",
            code="too_many_epochs",
        )
    base_model = check_base_model(session, settings, caller, request.base_model)
    speakers = [speaker for speaker, _ in datasets.speaker_counts(session, dataset.id)]
    test_speakers = held_out_speakers(speakers, request.test_speakers, seed=request.seed)
    training = Training(
        id=uuid.uuid4(),
        owner_key_id=caller.key_id,
        dataset_id=dataset.id,
        status=TrainingStatus.QUEUED,
        enqueued_at=utcnow(),
        base_model=base_model,
        params={
            "name": request.name or dataset.name,
            "epochs": epochs,
            "batch_size": request.batch_size,
            "learning_rate": request.learning_rate,
            "seed": request.seed,
            "test_speakers": test_speakers,
        },
        webhook_url=request.webhook_url,
        epochs=[],
    )
    repository.add(session, training)
    enqueue_training(session, training.id)
    facts = {"training_id": str(training.id), "dataset_id": str(dataset.id)}
    after_commit(session, lambda: log.info("training queued", extra=facts))
    return training


def check_base_model(
    session: Session, settings: Settings, caller: Caller, base_model: str | None
) -> str | None:
    """A served model's name, or the id of one of the caller's model versions, returned as it is stored:
    a version's id in its canonical spelling, the one a deletion of the version looks for."""
    if base_model is None or base_model in settings.model_names:
        return base_model
    try:
        version_id = uuid.UUID(base_model)
    except ValueError:
        version_id = None
    # Held shared until the commit: a deletion of the version waits, then sees this training needs it.
    if version_id is None or versions.get_visible(session, caller, version_id, lock="key_share") is None:
        raise InvalidRequest(
            f"no model {base_model!r}: give a served model's name ({', '.join(settings.model_names)}) or the"
            " id of one of your model versions",
            code="unknown_base_model",
        )
    return str(version_id)


def held_out_speakers(speakers: list[str], requested: list[str] | None, *, seed: int) -> list[str]:
    """The speakers the final evaluation runs on: those requested, or about a fifth drawn with ``seed``.
    At least one speaker must be left to train on, so a dataset needs two."""
    if len(speakers) < 2:
        raise InvalidRequest(
            "a training holds speakers out for its evaluation: the dataset needs at least two speakers",
            code="too_few_speakers",
        )
    if requested is None:
        count = max(1, round(TEST_FRACTION * len(speakers)))
        return sorted(np.random.default_rng(seed).permutation(speakers)[:count].tolist())
    unknown = sorted(set(requested) - set(speakers))
    if unknown:
        raise InvalidRequest(f"speaker(s) not in the dataset: {', '.join(unknown)}", code="unknown_speaker")
    if not requested or set(requested) == set(speakers):
        raise InvalidRequest(
            "hold out at least one speaker, and leave at least one to train on", code="invalid_test_speakers"
        )
    return sorted(set(requested))


def get_training(session: Session, caller: Caller, training_id: uuid.UUID) -> Training:
    """The caller's training; another key's training is a 404 like one that does not exist."""
    training = repository.get_visible(session, caller, training_id)
    if training is None:
        raise NotFound(f"no training {training_id}", code="training_not_found")
    return training


def cancel_training(session: Session, caller: Caller, training_id: uuid.UUID) -> Training:
    """Cancelled at once, queued or running: a running worker finds its lease gone at its next epoch and
    stops, registering nothing. One that has already ended is a conflict."""
    get_training(session, caller, training_id)
    if not repository.finish_unless_final(session, training_id, status=TrainingStatus.CANCELLED):
        raise Conflict(f"training {training_id} has already ended", code="training_finished")
    training_ended(session, training_id)
    return get_training(session, caller, training_id)
