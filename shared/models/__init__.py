"""Every table, re-exported so Alembic sees the whole schema through ``Base.metadata``."""

from shared.models.base import Base
from shared.models.job import FINAL_STATUSES, Job, JobStatus
from shared.models.result import JobResultRow
from shared.models.served_model import ServedModel

__all__ = ["FINAL_STATUSES", "Base", "Job", "JobResultRow", "JobStatus", "ServedModel"]
