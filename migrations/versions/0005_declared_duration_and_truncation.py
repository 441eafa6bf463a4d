"""declared duration and truncation

Jobs keep the length their audio's header declared beside the length the worker decoded, and whether
decoding ended well short of it (a file cut short, or a header that lies).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 23:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('declared_duration_s', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('truncated', sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('truncated')
        batch_op.drop_column('declared_duration_s')
