"""Fair share between tenants: a task's priority within its tenant, why a running task waits
(and since when), and the limits an operator sets per tenant.

Revision ID: i24_0001
Revises: i12_0001
"""

from libs.db.migrations.script_sql import execute_script

revision = "i24_0001"
down_revision = "i12_0001"
branch_labels = None
depends_on = None


UPGRADE = """
-- 0 high, 1 normal, 2 low: orders a tenant's own tasks when its share is less than they want.
ALTER TABLE tasks ADD COLUMN priority smallint NOT NULL DEFAULT 1
    CHECK (priority BETWEEN 0 AND 2);
-- Set by the dispatcher while a running task has items to start and none may start:
-- 'fair_share' (other tenants hold the kind's credit), 'tenant_limit' (its tenant's limit of
-- running items), 'capacity' (the kind's workers are busy with this tenant's own work).
ALTER TABLE tasks ADD COLUMN waiting_reason text;
ALTER TABLE tasks ADD COLUMN waiting_since timestamptz;
-- Tasks created per hour are counted per tenant.
CREATE INDEX tasks_tenant_created ON tasks (tenant_id, created_at);

-- Per-tenant overrides of the settings' defaults; NULL keeps the default.
CREATE TABLE tenant_limits (
    tenant_id uuid PRIMARY KEY REFERENCES tenants ON DELETE CASCADE,
    weight integer CHECK (weight BETWEEN 1 AND 1000),
    max_running_items integer CHECK (max_running_items > 0),
    max_running_tasks integer CHECK (max_running_tasks > 0),
    tasks_per_hour integer CHECK (tasks_per_hour > 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);
"""


def upgrade() -> None:
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script("""DROP TABLE tenant_limits; DROP INDEX tasks_tenant_created;
        ALTER TABLE tasks DROP COLUMN waiting_since, DROP COLUMN waiting_reason,
            DROP COLUMN priority;""")
