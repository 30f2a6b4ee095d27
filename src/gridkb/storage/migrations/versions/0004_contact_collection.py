"""contact collection in the chat: a ticket's address, the step a conversation waits for

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 10:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('tickets', sa.Column('address', sa.String(length=256), nullable=False, server_default=''))
    op.add_column('chat_messages', sa.Column('step', sa.String(length=32), nullable=False, server_default=''))


def downgrade() -> None:
    op.drop_column('chat_messages', 'step')
    op.drop_column('tickets', 'address')
