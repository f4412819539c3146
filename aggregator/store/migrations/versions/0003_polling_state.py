"""Polling state: where a moved feed is fetched, permanent redirects being counted, why a
source was disabled, the effective interval, and a feed found by autodiscovery.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("fetch_url", sa.String(2000)))
        batch.add_column(sa.Column("moved_to", sa.String(2000)))
        batch.add_column(sa.Column("moved_count", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("disabled", sa.Text))
        batch.add_column(sa.Column("interval_seconds", sa.Float))
        batch.add_column(sa.Column("discovered_url", sa.String(2000)))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        for name in (
            "discovered_url",
            "interval_seconds",
            "disabled",
            "moved_count",
            "moved_to",
            "fetch_url",
        ):
            batch.drop_column(name)
