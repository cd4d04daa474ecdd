"""Documents: which renderer each template gets, chosen at upload (libs.docxfast.choice).

Templates uploaded before keep docxtpl, the renderer they were checked against.

Revision ID: i13_0001
Revises: 0101
"""

from libs.db.migrations.script_sql import execute_script

revision = "i13_0001"
down_revision = "0101"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE doc_templates
    ADD COLUMN renderer text NOT NULL DEFAULT 'docxtpl'
        CHECK (renderer IN ('parts', 'docxtpl')),
    ADD COLUMN renderer_reason text;
"""

DOWNGRADE = """
ALTER TABLE doc_templates DROP COLUMN renderer_reason, DROP COLUMN renderer;
"""


def upgrade() -> None:
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script(DOWNGRADE)
