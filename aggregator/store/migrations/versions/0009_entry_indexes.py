"""Entry indexes for what is asked of them: (published, source_id) covers the posting-hours
count (no read of the entries' rows, which carry their HTML) and every range on
`published`; (source_id, canonical_url) goes, the canonical_url index serving its lookups.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_entries_published_source", "entries", ["published", "source_id"])
    op.drop_index("ix_entries_published", table_name="entries")
    op.drop_index("ix_entries_source_canonical", table_name="entries")


def downgrade() -> None:
    op.create_index("ix_entries_source_canonical", "entries", ["source_id", "canonical_url"])
    op.create_index("ix_entries_published", "entries", ["published"])
    op.drop_index("ix_entries_published_source", table_name="entries")
