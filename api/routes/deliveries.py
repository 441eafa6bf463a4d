"""Webhook deliveries of a job: what was sent, every attempt, and re-sending the latest event."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from api.deps import CallerDep, SessionDep
from shared.jobs import intake as jobs
from shared.webhooks import events as webhooks
from shared.webhooks.schemas import DeliveryLog, WebhookEventRead

router = APIRouter(prefix="/v1/jobs", tags=["webhooks"])


@router.get("/{job_id}/deliveries", summary="The job's webhook events and every delivery attempt")
def list_deliveries(job_id: uuid.UUID, session: SessionDep, caller: CallerDep) -> DeliveryLog:
    jobs.get_job(session, caller, job_id)  # 404 for an unknown job, or another key's
    return DeliveryLog.build(*webhooks.deliveries_of_job(session, job_id))


@router.post(
    "/{job_id}/deliveries",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send the job's latest webhook event again",
    responses={409: {"description": "The job has no webhook event (code `no_webhook_event`)"}},
)
def resend_delivery(job_id: uuid.UUID, session: SessionDep, caller: CallerDep) -> WebhookEventRead:
    jobs.get_job(session, caller, job_id)
    return WebhookEventRead.from_event(webhooks.resend_last(session, job_id))
