"""Statistics each network chooses (issue 16): the flagging rule per point, the phases of each
series, the rule set, variation rule, too-few-points flag and judged target per series, and
recorded re-baselining.

``series_point``, ``series_phase`` and ``series_summary`` are derived: existing rows get the
defaults and are rebuilt by the next run's derive step. ``rebase_record`` holds decisions people
recorded (never derived).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("series_point") as batch:
        batch.add_column(sa.Column("signal_rule", sa.String(length=16), nullable=True))
    op.create_table(
        "series_phase",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("measure_id", sa.String(length=32), nullable=False),
        sa.Column("from_period", sa.String(length=7), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "measure_id", "from_period"),
    )
    with op.batch_alter_table("series_summary") as batch:
        batch.add_column(sa.Column("variation_rule", sa.String(length=16), nullable=True))
        batch.add_column(
            sa.Column("too_few_points", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("rules", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("target", sa.Float(), nullable=True))
        batch.add_column(sa.Column("suggested_from", sa.String(length=7), nullable=True))
    op.create_table(
        "rebase_record",
        sa.Column("record_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("measure_id", sa.String(length=32), nullable=False),
        sa.Column("from_period", sa.String(length=7), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdraws", sa.Integer(), nullable=True),
        sa.Column("audit_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("record_id"),
    )
    op.create_index("ix_rebase_record_team_id", "rebase_record", ["team_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_rebase_record_team_id", table_name="rebase_record")
    op.drop_table("rebase_record")
    with op.batch_alter_table("series_summary") as batch:
        batch.drop_column("suggested_from")
        batch.drop_column("target")
        batch.drop_column("rules")
        batch.drop_column("too_few_points")
        batch.drop_column("variation_rule")
    op.drop_table("series_phase")
    with op.batch_alter_table("series_point") as batch:
        batch.drop_column("signal_rule")
