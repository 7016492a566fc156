"""status renamed state, priority, an index on state (as autogenerate writes it, the rename by hand)

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("orders", "status", new_column_name="state")
    op.add_column("orders", sa.Column("priority", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_orders_state"), "orders", ["state"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_orders_state"), table_name="orders")
    op.drop_column("orders", "priority")
    op.alter_column("orders", "state", new_column_name="status")
