"""The first schema: sources, stories, entries.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from aggregator.store.models import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("url", sa.String(2000), nullable=False, unique=True),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("weight", sa.Float, nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("final_url", sa.String(2000)),
        sa.Column("etag", sa.String(1000)),
        sa.Column("last_modified", sa.String(200)),
        sa.Column("last_fetched", UTCDateTime),
        sa.Column("last_success", UTCDateTime),
        sa.Column("next_due", UTCDateTime),
        sa.Column("error_count", sa.Integer, nullable=False),
        sa.Column("last_error_kind", sa.String(40)),
        sa.Column("last_error", sa.Text),
    )
    op.create_table(
        "stories",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("created", UTCDateTime, nullable=False),
        sa.Column("score", sa.Float),
        sa.Column("components", sa.JSON),
        sa.Column("scored_at", UTCDateTime),
    )
    op.create_table(
        "entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "source_id", sa.Integer, sa.ForeignKey("sources.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("key", sa.String(2000), nullable=False),
        sa.Column("url", sa.String(4000)),
        sa.Column("canonical_url", sa.String(4000)),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("summary_html", sa.Text, nullable=False),
        sa.Column("content_html", sa.Text),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("author", sa.Text),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("published", UTCDateTime, nullable=False),
        sa.Column("updated", UTCDateTime, nullable=False),
        sa.Column("first_seen", UTCDateTime, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("story_id", sa.String(64), sa.ForeignKey("stories.id", ondelete="SET NULL")),
        sa.UniqueConstraint("source_id", "key", name="uq_entries_source_key"),
    )
    op.create_index("ix_entries_canonical_url", "entries", ["canonical_url"])
    op.create_index("ix_entries_published", "entries", ["published"])
    op.create_index("ix_entries_story_id", "entries", ["story_id"])


def downgrade() -> None:
    op.drop_table("entries")
    op.drop_table("stories")
    op.drop_table("sources")
