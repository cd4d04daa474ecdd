"""codegen: stored application specs and the per-user hourly count of AI calls.

Revision ID: codegen_0001
Revises: 0001
"""

from libs.db.migrations.script_sql import execute_script

revision = "codegen_0001"
down_revision = "0001"
branch_labels = ("codegen",)
depends_on = None

UPGRADE = """
-- The spec the execute agent wrote for a task, readable by id; one per task (a second attempt
-- of the task's item replaces it). It goes with its task (retention).
CREATE TABLE codegen_app_specs (
    id uuid PRIMARY KEY,
    task_id uuid NOT NULL UNIQUE REFERENCES tasks ON DELETE CASCADE,
    tenant_id uuid NOT NULL,
    user_id uuid NOT NULL,
    version text NOT NULL,
    spec jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX codegen_app_specs_owner ON codegen_app_specs (tenant_id, user_id);

-- AI calls per user per clock hour, shared by every codegen instance (seed 002: 100 an hour).
CREATE TABLE codegen_ai_calls (
    user_id uuid NOT NULL,
    window_start timestamptz NOT NULL,
    calls integer NOT NULL,
    PRIMARY KEY (user_id, window_start)
);
"""

DOWNGRADE = "DROP TABLE codegen_ai_calls, codegen_app_specs;"


def upgrade() -> None:
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script(DOWNGRADE)
