"""Task transitions: one row per status change of a task (start, pause, resume, cancel, fail,
finish), written in the same statement as the change, so a task's timeline survives: the task
row itself only keeps the latest pause and the end.

Revision ID: i12_0001
Revises: 0002
"""

from libs.db.migrations.script_sql import execute_script

revision = "i12_0001"
down_revision = "0002"
branch_labels = None
depends_on = None


UPGRADE = """
CREATE TABLE task_transitions (
    id bigserial PRIMARY KEY,
    task_id uuid NOT NULL REFERENCES tasks ON DELETE CASCADE,
    action text NOT NULL,
    status text NOT NULL,
    error text,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX task_transitions_task ON task_transitions (task_id, id);
"""


def upgrade() -> None:
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script("DROP TABLE task_transitions;")
