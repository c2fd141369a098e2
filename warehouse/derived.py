"""Replace the derived tables in one transaction: readers see the old set or the new, never half.

NaN statistics (a limit that cannot be computed) are stored as NULL on both dialects.
"""

from __future__ import annotations

import polars as pl
from sqlalchemy import Engine, delete, insert

from warehouse.load import fit_frame
from warehouse.lock import lock_warehouse
from warehouse.models import NetworkPeriod, SeriesPoint, SeriesSummary

_CHUNK = 20_000


def _rows(frame: pl.DataFrame, model: type) -> list[dict]:
    cols = [c.name for c in model.__table__.columns]
    return fit_frame(frame.select([c for c in cols if c in frame.columns])).to_dicts()


def replace_derived(
    engine: Engine, points: pl.DataFrame, summaries: pl.DataFrame, network: pl.DataFrame
) -> None:
    with engine.begin() as conn:
        lock_warehouse(conn)
        for model, data in ((SeriesPoint, points), (SeriesSummary, summaries), (NetworkPeriod, network)):
            conn.execute(delete(model))
            for start in range(0, data.height, _CHUNK):
                rows = _rows(data.slice(start, _CHUNK), model)
                if rows:
                    conn.execute(insert(model), rows)
