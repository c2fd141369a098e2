"""Tiny helpers shared by the engine modules."""

from __future__ import annotations

import polars as pl


def add(
    df: pl.DataFrame, *exprs: pl.Expr | pl.Series | list[pl.Expr | pl.Series], **named: pl.Expr
) -> pl.DataFrame:
    """``with_columns`` through the lazy engine, on just the columns the expressions read.

    Eager ``with_columns`` runs without common-subexpression elimination, and our nested
    ``when/then`` chains reuse sub-expressions heavily; the lazy route is several times faster.
    Only the referenced columns enter the lazy query, so the wide frame is never copied.
    """
    flat: list[pl.Expr | pl.Series] = []
    for e in exprs:
        flat.extend(e if isinstance(e, list) else [e])
    flat.extend(e.alias(k) for k, e in named.items())
    roots: set[str] = set()
    for e in flat:
        if isinstance(e, pl.Expr):
            roots.update(e.meta.root_names())
    cols = [c for c in df.columns if c in roots] or df.columns[:1]  # keep the height
    new = df.select(cols).lazy().select(flat).collect()
    return df.with_columns(new.get_columns())


def run_key(group: str, code: pl.Expr) -> pl.Expr:
    """An integer key that changes exactly where (group, code) changes; code in {-1, 0, 1, null}.

    Cheaper than ``pl.struct(group, code).rle_id()`` (no row encoding).
    """
    return pl.col(group).cast(pl.Int64) * 4 + (code.cast(pl.Int64) + 2).fill_null(0)


def run_length(key: pl.Expr) -> pl.Expr:
    """Length of the run of equal consecutive ``key`` values each row belongs to (linear)."""
    # polars 2.1 panics in rle() on multi-chunk columns: callers feed rechunked frames
    return key.rle().struct.field("len").gather(key.rle_id())
