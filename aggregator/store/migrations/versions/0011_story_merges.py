"""Stories merge: when a new entry shows two stories to be one, the newer becomes part of
the older, and its row says where it went (`merged_into`), when and why, so that
`explain` can still answer for its id. The related-links columns of 0004, unused since
related stories are computed on the entries' vectors at each publish, are dropped. An
index on `entries.updated` makes the store's fingerprint (its latest edit) a lookup, not a
scan of every entry's row.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stories") as batch:
        batch.add_column(sa.Column("merged_into", sa.String(64)))
        batch.add_column(sa.Column("merged_at", sa.DateTime))
        batch.add_column(sa.Column("merge_reason", sa.Text))
        batch.drop_column("related")
        batch.drop_column("related_key")
    op.create_index("ix_entries_updated", "entries", ["updated"])


def downgrade() -> None:
    op.drop_index("ix_entries_updated", table_name="entries")
    with op.batch_alter_table("stories") as batch:
        batch.add_column(sa.Column("related_key", sa.String(400)))
        batch.add_column(sa.Column("related", sa.JSON))
        batch.drop_column("merge_reason")
        batch.drop_column("merged_at")
        batch.drop_column("merged_into")
