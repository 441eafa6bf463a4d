"""key scopes and webhook secrets

API keys get scopes (every existing key keeps all of them) and a webhook signing secret of their own,
sealed at rest, with the previous one kept through a rotation's grace period. Webhook events name the
key whose secret signs them. Existing keys get their secret when first needed.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 23:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scopes', sa.String(length=100), server_default='jobs:read jobs:write admin', nullable=False))
        batch_op.add_column(sa.Column('webhook_secret', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('previous_webhook_secret', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('webhook_secret_rotated_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_key_id', sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_webhook_events_owner_key_id_api_keys'), 'api_keys', ['owner_key_id'], ['id'])
    # Events already recorded are signed by their job's or batch's owner, as new ones will be.
    op.execute(
        "UPDATE webhook_events SET owner_key_id = COALESCE("
        "(SELECT owner_key_id FROM jobs WHERE jobs.id = webhook_events.job_id), "
        "(SELECT owner_key_id FROM batches WHERE batches.id = webhook_events.batch_id))"
    )


def downgrade() -> None:
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_webhook_events_owner_key_id_api_keys'), type_='foreignkey')
        batch_op.drop_column('owner_key_id')

    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_column('webhook_secret_rotated_at')
        batch_op.drop_column('previous_webhook_secret')
        batch_op.drop_column('webhook_secret')
        batch_op.drop_column('scopes')
