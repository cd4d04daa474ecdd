"""slides: the render cache and the per-slide session log.

Revision ID: slides_0001
Revises: 0001
"""

from libs.db.migrations.script_sql import execute_script

revision = "slides_0001"
down_revision = "0001"
branch_labels = ("slides",)
depends_on = None

UPGRADE = """
-- One rendered image per (tenant, renderer, final prompt, text, size); the object lives under
-- slides-cache/, outside every task's prefix, so a task's retention never deletes it. Entries
-- expire on their own clock (last_used_at + the service's cache TTL).
CREATE TABLE slide_cache (
    key text PRIMARY KEY,
    tenant_id uuid NOT NULL,
    object_key text NOT NULL,
    renderer text NOT NULL,
    content_type text NOT NULL,
    bytes integer NOT NULL,
    width integer NOT NULL,
    height integer NOT NULL,
    hits integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX slide_cache_last_used ON slide_cache (last_used_at);

-- Structured log lines of a batch, fetched by session. They go with their task (retention).
CREATE TABLE slide_logs (
    id bigserial PRIMARY KEY,
    session_id text NOT NULL,
    task_id uuid NOT NULL REFERENCES tasks ON DELETE CASCADE,
    seq integer,
    attempt integer,
    event text NOT NULL,
    level text NOT NULL DEFAULT 'info',
    details jsonb NOT NULL DEFAULT '{}',
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX slide_logs_session ON slide_logs (session_id, id);
CREATE INDEX slide_logs_task ON slide_logs (task_id, id);
-- A batch starts and ends once, however often its events are delivered.
CREATE UNIQUE INDEX slide_logs_batch_once ON slide_logs (task_id, event)
    WHERE event IN ('batch_generate_start', 'batch_generate_complete');
"""

DOWNGRADE = """
DROP TABLE slide_logs, slide_cache;
"""


def upgrade() -> None:
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script(DOWNGRADE)
