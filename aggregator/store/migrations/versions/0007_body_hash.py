"""The hash of the last feed body parsed, so that an unchanged body is not parsed again
(for servers that send neither ETag nor Last-Modified).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("body_hash", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("body_hash")
