"""Every entry the main feed published, kept for its RFC 5005 archive pages.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from aggregator.store.models import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "archived",
        sa.Column("atom_id", sa.String(200), primary_key=True),
        sa.Column("week", sa.String(10), nullable=False, index=True),
        sa.Column("first_published", UTCDateTime, nullable=False),
        sa.Column("entry_xml", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("archived")
