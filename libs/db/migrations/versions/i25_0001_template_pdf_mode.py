"""Documents: how each template's PDFs are made, judged at upload (libs.docxfast.merge_safety):
`merged` rows converted together, or `single`, one conversion per row, and why.

Templates uploaded before keep `single`, the mode they were converted with.

Revision ID: i25_0001
Revises: i13_0001
"""

from libs.db.migrations.script_sql import execute_script

revision = "i25_0001"
down_revision = "i13_0001"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE doc_templates
    ADD COLUMN pdf_mode text NOT NULL DEFAULT 'single'
        CHECK (pdf_mode IN ('merged', 'single')),
    ADD COLUMN pdf_mode_reason text;
"""

DOWNGRADE = """
ALTER TABLE doc_templates DROP COLUMN pdf_mode_reason, DROP COLUMN pdf_mode;
"""


def upgrade() -> None:
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script(DOWNGRADE)
