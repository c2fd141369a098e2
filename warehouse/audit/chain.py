"""The hash chain: each entry's hash covers its content and the previous entry's hash, so editing,
deleting or reordering any entry breaks the chain from that point on."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

GENESIS = "0" * 64


ENTRY_FIELDS = (
    "seq",
    "run_id",
    "logged_at",
    "sha256",
    "file",
    "team_id",
    "period",
    "part",
    "row",
    "column",
    "check",
    "severity",
    "value",
    "message",
    "prev_hash",
)


def entry_hash(entry: dict) -> str:
    """SHA-256 of the canonical JSON of the entry's fields (everything but its own hash)."""
    body = {k: entry.get(k) for k in ENTRY_FIELDS}
    if isinstance(body["logged_at"], dt.datetime):
        body["logged_at"] = body["logged_at"].isoformat()
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def chain(entries: Iterable[dict], prev_hash: str, first_seq: int) -> list[dict]:
    """Number and hash new entries so they continue the chain after ``prev_hash``."""
    out = []
    for i, entry in enumerate(entries):
        e = {**entry, "seq": first_seq + i, "prev_hash": prev_hash}
        e["entry_hash"] = prev_hash = entry_hash(e)
        out.append(e)
    return out


@dataclass(frozen=True)
class ChainProblem:
    where: str
    seq: int | None
    problem: str

    def __str__(self) -> str:
        at = f" entry {self.seq}" if self.seq is not None else ""
        return f"{self.where}{at}: {self.problem}"


def verify_entries(entries: list[dict], where: str) -> list[ChainProblem]:
    """Walk the chain in file order; report the first break of each kind it meets."""
    problems: list[ChainProblem] = []
    prev, expected_seq = GENESIS, 1
    for e in entries:
        seq = e.get("seq")
        if seq != expected_seq:
            problems.append(
                ChainProblem(
                    where, seq, f"expected entry {expected_seq} here: an entry was deleted, inserted or moved"
                )
            )
        if e.get("prev_hash") != prev:
            problems.append(ChainProblem(where, seq, "does not link to the entry before it (chain broken)"))
        if entry_hash(e) != e.get("entry_hash"):
            problems.append(ChainProblem(where, seq, "content does not match its hash (entry edited)"))
        prev = e.get("entry_hash")
        expected_seq = (seq or expected_seq) + 1
        if len(problems) > 50:
            break
    return problems


def serialise(entry: dict) -> str:
    e = dict(entry)
    if isinstance(e.get("logged_at"), dt.datetime):
        e["logged_at"] = e["logged_at"].isoformat()
    return json.dumps(e, ensure_ascii=False, sort_keys=True, default=str)


def serialise_value(v: object) -> object:
    return v.isoformat() if isinstance(v, dt.datetime | dt.date) else v
