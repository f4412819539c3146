"""The story engine's vectors: each entry's packed lexical and semantic views
(stories/vectors.py), so that a restart re-reads them and embeds nothing. Existing
entries get theirs when they are next in a window (their story ids are kept).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("entries") as batch:
        batch.add_column(sa.Column("vector", sa.LargeBinary))


def downgrade() -> None:
    with op.batch_alter_table("entries") as batch:
        batch.drop_column("vector")
