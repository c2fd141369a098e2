"""Receiving: every file is archived by content before anything reads it; nothing is ever lost."""

from __future__ import annotations

import hashlib
from pathlib import Path

from transforms.intake.archive import archive, discover, file_bytes, quarantine
from transforms.intake.read import read_return


def test_archive_is_content_addressed_and_idempotent(tmp_path: Path) -> None:
    src = tmp_path / "inbox" / "T01_2026-10.xlsx"
    src.parent.mkdir()
    src.write_bytes(b"not really a workbook")
    first, data = archive(src, tmp_path / "archive")
    again, _ = archive(src, tmp_path / "archive")
    digest = hashlib.sha256(b"not really a workbook").hexdigest()
    assert first.sha256 == again.sha256 == digest
    assert first.archive_path == tmp_path / "archive" / digest[:2] / f"{digest}.xlsx"
    assert first.archive_path.read_bytes() == b"not really a workbook" == data
    assert len(list((tmp_path / "archive").rglob("*.xlsx"))) == 1
    q = quarantine(first, tmp_path / "quarantine")
    assert q.read_bytes() == b"not really a workbook" and digest[:12] in q.name


def test_huge_file_is_archived_by_streaming_and_refused(tmp_path: Path) -> None:
    big = tmp_path / "T01_2026-10.xlsx"
    with big.open("wb") as fh:  # sparse: 30 MB on paper, nothing on disk
        fh.seek(30 * 1024 * 1024 - 1)
        fh.write(b"\0")
    rec, data = archive(big, tmp_path / "archive", max_bytes=25 * 1024 * 1024)
    assert data is None and rec.size == 30 * 1024 * 1024
    h = hashlib.sha256()
    with big.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    assert rec.sha256 == h.hexdigest() and rec.archive_path.stat().st_size == rec.size
    raw = read_return(big, None, rec.sha256)
    assert [i.check for i in raw.issues] == ["file_too_large"]


def test_csv_folder_archived_as_a_stable_zip(tmp_path: Path) -> None:
    folder = tmp_path / "inbox" / "T02_2026-10"
    folder.mkdir(parents=True)
    for part in ("about", "measures", "pdsa", "learning"):
        (folder / f"{part.upper()}.CSV").write_text("a,b\n1,2\n")
    (tmp_path / "inbox" / ".hidden").write_text("x")
    (tmp_path / "inbox" / "~$T01_2026-10.xlsx").write_text("excel lock file")
    assert discover(tmp_path / "inbox") == [folder]
    assert file_bytes(folder) == file_bytes(folder)  # same folder, same bytes, same SHA-256
    rec, _ = archive(folder, tmp_path / "archive")
    assert rec.archive_path.suffix == ".zip"
