"""trainings and model versions: custom models trained through the API, and jobs that run on them

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('trainings',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_key_id', sa.Uuid(), nullable=True),
    sa.Column('dataset_id', sa.Uuid(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('enqueued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('base_model', sa.String(length=64), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('progress', sa.Float(), nullable=False),
    sa.Column('epochs', sa.JSON(), nullable=False),
    sa.Column('evaluation', sa.JSON(), nullable=True),
    sa.Column('webhook_url', sa.String(length=2048), nullable=True),
    sa.Column('error_code', sa.String(length=64), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_owner', sa.String(length=128), nullable=True),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['owner_key_id'], ['api_keys.id'], name=op.f('fk_trainings_owner_key_id_api_keys')),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], name=op.f('fk_trainings_dataset_id_datasets'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trainings'))
    )
    with op.batch_alter_table('trainings', schema=None) as batch_op:
        batch_op.create_index('ix_trainings_owner_key_id_created_at_id', ['owner_key_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_trainings_status_created_at', ['status', 'created_at'], unique=False)

    op.create_table('model_versions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_key_id', sa.Uuid(), nullable=True),
    sa.Column('training_id', sa.Uuid(), nullable=True),
    sa.Column('dataset_id', sa.Uuid(), nullable=True),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('base_model', sa.String(length=64), nullable=True),
    sa.Column('revision', sa.String(length=64), nullable=False),
    sa.Column('labels', sa.JSON(), nullable=False),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('training_data', sa.JSON(), nullable=False),
    sa.Column('storage_key', sa.String(length=32), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('promoted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['owner_key_id'], ['api_keys.id'], name=op.f('fk_model_versions_owner_key_id_api_keys')),
    sa.ForeignKeyConstraint(['training_id'], ['trainings.id'], name=op.f('fk_model_versions_training_id_trainings'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], name=op.f('fk_model_versions_dataset_id_datasets'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_model_versions')),
    sa.UniqueConstraint('training_id', name=op.f('uq_model_versions_training_id'))
    )
    with op.batch_alter_table('model_versions', schema=None) as batch_op:
        batch_op.create_index('ix_model_versions_owner_key_id_created_at_id', ['owner_key_id', 'created_at', 'id'], unique=False)

    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('model_version_id', sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_jobs_model_version_id_model_versions'), 'model_versions', ['model_version_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('training_id', sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f('ix_webhook_events_training_id'), ['training_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_webhook_events_training_id_trainings'), 'trainings', ['training_id'], ['id'], ondelete='CASCADE')


def downgrade() -> None:
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_webhook_events_training_id_trainings'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_webhook_events_training_id'))
        batch_op.drop_column('training_id')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_jobs_model_version_id_model_versions'), type_='foreignkey')
        batch_op.drop_column('model_version_id')
    with op.batch_alter_table('model_versions', schema=None) as batch_op:
        batch_op.drop_index('ix_model_versions_owner_key_id_created_at_id')
    op.drop_table('model_versions')
    with op.batch_alter_table('trainings', schema=None) as batch_op:
        batch_op.drop_index('ix_trainings_status_created_at')
        batch_op.drop_index('ix_trainings_owner_key_id_created_at_id')
    op.drop_table('trainings')
