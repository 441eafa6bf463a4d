"""Every table, re-exported so Alembic sees the whole schema through ``Base.metadata``."""

from shared.models.api_key import ApiKey
from shared.models.base import Base
from shared.models.batch import Batch
from shared.models.dataset import Dataset, DatasetClip, DatasetStatus
from shared.models.job import FINAL_STATUSES, Job, JobStatus
from shared.models.result import JobResultRow
from shared.models.served_model import ServedModel
from shared.models.training import TRAINING_FINAL_STATUSES, ModelVersion, Training, TrainingStatus
from shared.models.webhook import DeliveryStatus, EventType, WebhookAttempt, WebhookEvent

__all__ = [
    "FINAL_STATUSES",
    "TRAINING_FINAL_STATUSES",
    "ApiKey",
    "Base",
    "Batch",
    "Dataset",
    "DatasetClip",
    "DatasetStatus",
    "DeliveryStatus",
    "EventType",
    "Job",
    "JobResultRow",
    "JobStatus",
    "ModelVersion",
    "ServedModel",
    "Training",
    "TrainingStatus",
    "WebhookAttempt",
    "WebhookEvent",
]
