"""Documents (seed 000): templates and data sources, owned by the gateway's documents API.

Revision ID: 0101
Revises: 0001
"""

from libs.db.migrations.script_sql import execute_script

revision = "0101"
down_revision = "0001"
branch_labels = ("documents",)
depends_on = None

UPGRADE = """
CREATE TABLE doc_templates (
    tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
    id text NOT NULL,
    name text NOT NULL,
    filename text NOT NULL,
    object_key text NOT NULL,
    size_bytes integer NOT NULL,
    fields jsonb NOT NULL DEFAULT '[]',
    created_by uuid REFERENCES users ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE TABLE doc_data_sources (
    tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
    id text NOT NULL,
    name text NOT NULL,
    format text NOT NULL,
    object_key text NOT NULL,
    row_count integer NOT NULL,
    columns jsonb NOT NULL DEFAULT '[]',
    created_by uuid REFERENCES users ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
"""

DOWNGRADE = """
DROP TABLE doc_data_sources, doc_templates;
"""


def upgrade() -> None:
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script(DOWNGRADE)
