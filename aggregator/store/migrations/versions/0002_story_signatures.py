"""Stories from near-duplicates: each entry's text signature, why it joined its story, and
an index to recognise GUIDs that churn (same source, same canonical URL).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("entries") as batch:
        batch.add_column(sa.Column("signature", sa.Text))
        batch.add_column(sa.Column("story_similarity", sa.Float))
        batch.add_column(sa.Column("story_reason", sa.Text))
        batch.create_index("ix_entries_source_canonical", ["source_id", "canonical_url"])
        batch.create_index("ix_entries_source_hash", ["source_id", "content_hash"])


def downgrade() -> None:
    with op.batch_alter_table("entries") as batch:
        batch.drop_index("ix_entries_source_hash")
        batch.drop_index("ix_entries_source_canonical")
        batch.drop_column("story_reason")
        batch.drop_column("story_similarity")
        batch.drop_column("signature")
