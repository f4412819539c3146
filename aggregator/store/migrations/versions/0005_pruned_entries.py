"""Entries dropped by `prune` leave a tombstone, so that a feed that still lists them does
not bring them back as new.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from aggregator.store.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pruned",
        sa.Column(
            "source_id",
            sa.Integer,
            sa.ForeignKey("sources.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("key", sa.String(2000), primary_key=True),
        sa.Column("pruned_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pruned")
