"""A source's claim while a poll of it waits in the workers' queue: the claim's id (sent
with the task, cleared with the poll's outcome) and when it was made (a claim older than
the lease is given up and the source queued again).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("claim_id", sa.String(36)))
        batch.add_column(sa.Column("claimed_at", sa.DateTime()))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("claimed_at")
        batch.drop_column("claim_id")
