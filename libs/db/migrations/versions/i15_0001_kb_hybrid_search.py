"""Hybrid knowledge-base search: each chunk's keyword vector (CJK bigrams/unigrams and stemmed
Latin words, computed by services/ingester/keywords.py) under a GIN index, and the heading path
the chunk sits under.

Chunks indexed before this revision have no keywords; the ingester's pipeline version changed
with it, so the next sync of each knowledge base re-indexes every document.

Revision ID: i15_0001
Revises: kb_0001
"""

from libs.db.migrations.script_sql import execute_script

revision = "i15_0001"
down_revision = "kb_0001"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE kb_chunks ADD COLUMN context text NOT NULL DEFAULT '',
    ADD COLUMN keywords tsvector NOT NULL DEFAULT ''::tsvector;
CREATE INDEX kb_chunks_keywords ON kb_chunks USING gin (keywords);
"""

DOWNGRADE = """
DROP INDEX kb_chunks_keywords;
ALTER TABLE kb_chunks DROP COLUMN keywords, DROP COLUMN context;
"""


def upgrade() -> None:
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script(DOWNGRADE)
