"""Receiving files: discover the period's inbox, hash each file, keep it in a content-addressed archive.

A file is archived before anything else reads it, so nothing received is ever lost —
however broken it is. Rejected files are also copied to the period's quarantine folder,
where a data manager finds them next to their feedback sheets.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

RETURN_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv", ".zip")


@dataclass(frozen=True)
class Received:
    """One received return: where it came from, its bytes' hash and where the archive keeps it."""

    path: Path
    name: str
    sha256: str
    size: int
    archive_path: Path


def discover(inbox: Path) -> list[Path]:
    """Files and CSV folders in an inbox, in a stable order (so loads are deterministic)."""
    if not inbox.is_dir():
        return []
    found = []
    for p in sorted(inbox.iterdir(), key=lambda q: q.name):
        if p.name.startswith((".", "~$")):
            continue  # hidden files and Excel lock files
        if p.is_file() or (p.is_dir() and _csv_members(p)):
            found.append(p)
    return found


def _csv_members(folder: Path) -> list[Path]:
    return sorted(m for m in folder.iterdir() if m.is_file() and m.suffix.lower() == ".csv")


def file_bytes(path: Path) -> bytes:
    """A CSV folder is archived as a zip of its CSVs (sorted, fixed timestamps: same folder, same hash)."""
    if not path.is_dir():
        return path.read_bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for member in _csv_members(path):
            info = zipfile.ZipInfo(member.name, date_time=(1980, 1, 1, 0, 0, 0))
            zf.writestr(info, member.read_bytes())
    return buf.getvalue()


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _archive_large(path: Path, archive_dir: Path, suffix: str) -> Received:
    """A file too large to be a return is still kept, streamed in chunks so memory stays flat."""
    archive_dir.mkdir(parents=True, exist_ok=True)
    tmp = archive_dir / f".incoming.{os.getpid()}.tmp"
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as src, tmp.open("wb") as dst:
        while chunk := src.read(1 << 20):
            digest.update(chunk)
            dst.write(chunk)
            size += len(chunk)
    sha = digest.hexdigest()
    target = archive_dir / sha[:2] / f"{sha}{suffix}"
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, target)
    return Received(path, path.name, sha, size, target)


def archive(
    path: Path, archive_dir: Path, data: bytes | None = None, max_bytes: int = 25 * 1024 * 1024
) -> tuple[Received, bytes | None]:
    """Copy the file into ``archive/<sha[:2]>/<sha><suffix>`` atomically; idempotent.

    Returns the bytes for the reader, or None for a file over ``max_bytes`` (the reader then
    reports it as too large without loading it)."""
    suffix = ".zip" if path.is_dir() else (path.suffix.lower() if len(path.suffix) <= 6 else ".bin")
    if data is None and path.is_file() and path.stat().st_size > max_bytes:
        return _archive_large(path, archive_dir, suffix), None
    data = file_bytes(path) if data is None else data
    digest = sha256_of(data)
    target = archive_dir / digest[:2] / f"{digest}{suffix}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        # Atomic (temp file + rename), not fsynced file by file: the original stays in the inbox,
        # so a crash can lose at most a copy that the re-run makes again.
        tmp.write_bytes(data)
        os.replace(tmp, target)
    return Received(path, path.name, digest, len(data), target), data


def quarantine(received: Received, quarantine_dir: Path) -> Path:
    """A copy of a rejected file, named so a person can match it to its feedback sheet."""
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    safe_name = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in received.name)[:120]
    target = quarantine_dir / f"{received.sha256[:12]}_{safe_name}"
    if received.path.is_dir():
        target = target.with_suffix(".zip")
    if not target.exists():
        shutil.copyfile(received.archive_path, target)
    return target
