"""Servers run only their owner's batches; an operator's server (owner NULL) may be `shared`,
and then runs every tenant's. Only the operator's servers can be shared.

Revision ID: i21_0001
Revises: i10_0001
"""

from alembic import op

revision = "i21_0001"
down_revision = "i10_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
ALTER TABLE servers ADD COLUMN shared boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT servers_shared_by_the_operator_only
        CHECK (NOT shared OR owner_tenant_id IS NULL)
""")


def downgrade() -> None:
    op.execute("ALTER TABLE servers DROP COLUMN shared;")
