"""a key's department: agents take (assign) only their own department's tickets

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 12:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('api_keys', sa.Column('department', sa.String(length=64), nullable=False, server_default=''))


def downgrade() -> None:
    op.drop_column('api_keys', 'department')
