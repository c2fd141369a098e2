"""measure_value: drop the secondary index on (team_id, measure_id, period)

Nothing in joyflow reads measure_value by team: the current-value view and the history reads
take the table whole, and there the index is no help (1M rows: SQLite 3.8 s with it, 3.5 s
without; PostgreSQL 3.0–3.4 s against 2.8–3.2 s). Every write paid for it: a second B-tree as
large as the key's, updated per row, which was about half the cost of a bulk load. A team's
rows by hand (an auditor's query) still take tens of milliseconds by scanning.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_measure_value_team_measure_period"


def upgrade() -> None:
    op.drop_index(INDEX, table_name="measure_value")


def downgrade() -> None:
    op.create_index(INDEX, "measure_value", ["team_id", "measure_id", "period"], unique=False)
