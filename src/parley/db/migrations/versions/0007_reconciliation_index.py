"""an index of the texts reconciliation looks at: still sending or sent

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 07:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

AWAITING_NEWS = sa.text("status IN ('sending', 'sent')")


def upgrade() -> None:
    with op.batch_alter_table("sms_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sms_deliveries_awaiting_news",
            ["updated_at"],
            unique=False,
            postgresql_where=AWAITING_NEWS,
            sqlite_where=AWAITING_NEWS,
        )


def downgrade() -> None:
    with op.batch_alter_table("sms_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_sms_deliveries_awaiting_news")
