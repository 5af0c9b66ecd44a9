"""An uploaded backup is read and checked in the import worker process (app.workers), not in
the server's own interpreter, where it kept every other request waiting for turns."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.services import backup


def _backup(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"format": "ldn-diary-backup", "version": 1, "entries": list(entries)}


def test_an_import_is_checked_in_the_worker_process(
    api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def not_here(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("checked in the server's own process")

    # Only the server's process sees these: the worker has its own copy of the module.
    monkeypatch.setattr(backup, "read_document", not_here)
    monkeypatch.setattr(backup, "plan_import", not_here)
    response = api.post("/api/v1/import", json=_backup({"date": "2026-01-05", "pain": 40}))
    assert response.status_code == 200, response.text
    assert response.json()["days_added"] == 1
    assert api.get("/api/v1/entries/2026-01-05").json()["pain"] == 40


def test_a_refused_file_comes_back_from_the_worker_naming_every_problem(
    api: TestClient,
) -> None:
    refused = _backup({"date": "not a day", "pain": 1}, {"date": "2026-01-06", "pain": 500})
    response = api.post("/api/v1/import", json=refused)
    assert response.status_code == 422, response.text
    named = {tuple(problem["loc"]) for problem in response.json()["detail"]}
    assert ("body", "entries", 0, "date") in named
    assert ("body", "entries", 1, "pain") in named
    assert api.get("/api/v1/entries").json() == []


def test_a_refusal_travels_between_processes_whole() -> None:
    problems = [backup.RowError(("entries", 3, "date"), "must be a date like 2026-01-31")]
    travelled = pickle.loads(pickle.dumps(backup.ImportRefused(problems)))
    assert isinstance(travelled, backup.ImportRefused)
    assert travelled.errors == problems
