"""A person's name as a key: how the same person is recognised when written differently.

Used to match meeting attendees to participants (``transforms.attendance.match``) and to find the
participant a return's people change is about (``schemas.returns``).
"""

from __future__ import annotations

import polars as pl


def name_key(name: pl.Expr) -> pl.Expr:
    """'Haddad, Amira' / 'AMIRA  HADDAD' / 'Amira Haddad.' → 'amira haddad'; 'Renée' → 'renee'."""
    parts = name.str.split(",")
    flipped = (
        pl.when(parts.list.len() == 2)
        .then(pl.concat_str(parts.list.get(1, null_on_oob=True), pl.lit(" "), parts.list.get(0)))
        .otherwise(name)
    )
    return (
        flipped.str.normalize("NFKD")
        .str.replace_all(r"\p{M}", "")
        .str.to_lowercase()
        .str.replace_all(r"[^\p{L}\p{N}]+", " ")
        .str.strip_chars()
        .replace("", None)
    )
