"""Related stories are kept between runs: each story's links and what they were found for.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stories") as batch:
        batch.add_column(sa.Column("related_key", sa.String(400)))
        batch.add_column(sa.Column("related", sa.JSON))


def downgrade() -> None:
    with op.batch_alter_table("stories") as batch:
        batch.drop_column("related")
        batch.drop_column("related_key")
