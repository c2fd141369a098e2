"""series_point: which points belong to a shift or a trend (run-chart signals drawn as bands)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Derived data: existing rows get False and are rebuilt by the next run's derive step.
    with op.batch_alter_table("series_point") as batch:
        batch.add_column(sa.Column("shift_point", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("trend_point", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("series_point") as batch:
        batch.drop_column("trend_point")
        batch.drop_column("shift_point")
