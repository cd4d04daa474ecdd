"""Servers get an owner: the tenant whose admin registered one. NULL is the operator (the system
role): self-registered local servers and those registered before owners existed. Only the
owner's admins (or the operator, for NULL) may change or delete a server.

Revision ID: i10_0001
Revises: servers_0001
"""

from alembic import op

revision = "i10_0001"
down_revision = "servers_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
ALTER TABLE servers ADD COLUMN owner_tenant_id uuid REFERENCES tenants ON DELETE CASCADE;
""")


def downgrade() -> None:
    op.execute("ALTER TABLE servers DROP COLUMN owner_tenant_id;")
