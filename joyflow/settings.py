"""Where things live and how to reach them, from environment variables with safe defaults.

Everything defaults under ``var/`` of the working directory so the embedded demo needs
no configuration at all; production sets ``JOYFLOW_HOME`` and ``JOYFLOW_WAREHOUSE_URL``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else default


@dataclass(frozen=True)
class Settings:
    home: Path
    warehouse_url: str
    archive_dir: Path
    quarantine_dir: Path
    reports_dir: Path
    runs_dir: Path
    outbox_dir: Path
    max_file_bytes: int = 25 * 1024 * 1024
    smtp: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Settings:
        home = _env_path("JOYFLOW_HOME", Path.cwd() / "var")
        url = os.environ.get("JOYFLOW_WAREHOUSE_URL") or f"sqlite:///{home / 'warehouse.db'}"
        smtp = {
            k[len("JOYFLOW_SMTP_") :].lower(): v
            for k, v in os.environ.items()
            if k.startswith("JOYFLOW_SMTP_")
        }
        return cls(
            home=home,
            warehouse_url=url,
            archive_dir=_env_path("JOYFLOW_ARCHIVE_DIR", home / "archive"),
            quarantine_dir=_env_path("JOYFLOW_QUARANTINE_DIR", home / "quarantine"),
            reports_dir=_env_path("JOYFLOW_REPORTS_DIR", home / "reports"),
            runs_dir=_env_path("JOYFLOW_RUNS_DIR", home / "runs"),
            outbox_dir=_env_path("JOYFLOW_OUTBOX_DIR", home / "outbox"),
            max_file_bytes=int(os.environ.get("JOYFLOW_MAX_FILE_BYTES", 25 * 1024 * 1024)),
            smtp=smtp,
        )
