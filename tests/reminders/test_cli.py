"""`python -m app.reminders once` runs as its own process and exits (SPEC §12, §13)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.sqlite_only  # a process of its own on a copy of the SQLite file


def test_once_sends_what_is_due_and_exits(tmp_path: Path, migrated_template: Path) -> None:
    database = tmp_path / "diary.db"
    shutil.copy(migrated_template, database)
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "DATA_DIR": str(tmp_path),
        "ENVIRONMENT": "test",
        "SECRET_KEY": "test",
    }
    done = subprocess.run(
        [sys.executable, "-m", "app.reminders", "once"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "vapid_private_key").read_text().strip()


def test_a_wrong_mode_is_refused() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "app.reminders", "sometimes"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "once" in done.stderr
