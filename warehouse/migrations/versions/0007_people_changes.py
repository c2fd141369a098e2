"""people changes (issue 15): the optional part of the monthly return in which a team reports who
joined, left or changed role

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "people_change",
        sa.Column("submission_id", sa.String(length=64), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("steering_committee", sa.Boolean(), nullable=True),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.submission_id"],
            name=op.f("fk_people_change_submission_id_submission"),
        ),
        sa.PrimaryKeyConstraint("submission_id", "source_row", name=op.f("pk_people_change")),
    )
    with op.batch_alter_table("people_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_people_change_team_id"), ["team_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("people_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_change_team_id"))
    op.drop_table("people_change")
