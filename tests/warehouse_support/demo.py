"""Small generated demo networks shared (read-only) by the process-level warehouse tests."""

from __future__ import annotations

import os
from pathlib import Path

SMALL = {"teams": 8, "months": 4, "end": "2026-10"}  # the smallest demo with every story in it


def generate_small(root: Path) -> Path:
    from transforms.demo import generate

    generate(root, **SMALL)
    return root


def clean_checksums(root: Path, work: Path) -> dict[str, str]:
    """Per-table checksums of a clean, sequential backfill of the network (on SQLite: the
    checksums are the same on PostgreSQL)."""
    from tests.warehouse_support import networks as nw
    from warehouse.checksum import table_checksums
    from warehouse.engine import make_engine

    old = os.environ.get("JOYFLOW_HOME")
    os.environ["JOYFLOW_HOME"] = str(work / "home")
    try:
        url = f"sqlite:///{work / 'clean.db'}"
        nw.run(url, root, SMALL["end"], backfill=True)
        eng = make_engine(url)
        sums = table_checksums(eng)
        eng.dispose()
        return sums
    finally:
        if old is None:
            os.environ.pop("JOYFLOW_HOME", None)
        else:
            os.environ["JOYFLOW_HOME"] = old


def inbox_files(root: Path) -> list[Path]:
    return [
        p
        for d in sorted((root / "inbox").iterdir())
        for p in sorted(d.iterdir())
        if not p.name.startswith((".", "~$"))
    ]
