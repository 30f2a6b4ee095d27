"""admins' rulings on knowledge conflicts

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 09:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('conflict_decisions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('conflict_id', sa.String(length=32), nullable=False),
    sa.Column('preferred', sa.String(length=64), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_conflict_decisions_conflict_id'), 'conflict_decisions', ['conflict_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_conflict_decisions_conflict_id'), table_name='conflict_decisions')
    op.drop_table('conflict_decisions')
