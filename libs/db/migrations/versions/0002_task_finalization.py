"""Task finalization: a kind may ask for one last step once every item has settled (a ZIP of
a batch's documents). Its state lives on the task so a lost step is found and redone.

Revision ID: 0002
Revises: 0001
"""

from libs.db.migrations.script_sql import execute_script

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE tasks ADD COLUMN finalize boolean NOT NULL DEFAULT false;
ALTER TABLE tasks ADD COLUMN finalize_state text;
ALTER TABLE tasks ADD COLUMN finalize_attempt integer NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN finalize_lease timestamptz;
CREATE INDEX tasks_finalizing ON tasks (finalize_lease) WHERE finalize_state = 'running';
"""

DOWNGRADE = """
DROP INDEX tasks_finalizing;
ALTER TABLE tasks DROP COLUMN finalize_lease;
ALTER TABLE tasks DROP COLUMN finalize_attempt;
ALTER TABLE tasks DROP COLUMN finalize_state;
ALTER TABLE tasks DROP COLUMN finalize;
"""


def upgrade() -> None:
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script(DOWNGRADE)
