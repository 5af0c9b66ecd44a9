"""The patient's items through every export (SPEC §2.5): CSV, FHIR and the JSON backup, which
carries the own items' definitions and the tracked set and restores them; old backups import."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from app.items import RATED_KEYS, SIDE_EFFECT_KEYS


def _me_cfs_diary(api: TestClient) -> None:
    assert api.post("/api/v1/item-packs/me_cfs/track").status_code == 200
    own = {"label": "Tinnitus today", "low_anchor": "silent", "high_anchor": "unbearable"}
    assert api.post("/api/v1/items", json=own).status_code == 201
    api.post("/api/v1/items", json={"label": "Itching", "kind": "side_effect"})
    api.patch("/api/v1/items/brain_fog", json={"position": 0})
    api.put(
        "/api/v1/entries/2026-03-02",
        json={
            "pain": 40,
            "ratings": {"pem": 70, "brain_fog": 0, "custom_tinnitus_today": 20},
            "side_effects": {"nausea": 1, "custom_itching": 2},
        },
    )
    api.put("/api/v1/entries/2026-03-03", json={"ratings": {"pem": 50}})


def test_csv_has_a_column_per_item_with_data(api: TestClient) -> None:
    _me_cfs_diary(api)
    text = api.get("/api/v1/export.csv").content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    header = text.split("\r\n", 1)[0].split(",")

    assert header[: 1 + len(RATED_KEYS)] == ["date", *RATED_KEYS]
    assert "pem" in header and "brain_fog" in header and "custom_tinnitus_today" in header
    assert "custom_itching" in header
    assert "orthostatic" not in header  # tracked, but no day answers it
    assert header.index("custom_itching") > header.index("anxiety")
    assert [row["pem"] for row in rows] == ["70", "50"]
    assert rows[0]["brain_fog"] == "0" and rows[1]["brain_fog"] == ""
    assert rows[0]["custom_itching"] == "2"


def test_fhir_has_an_answer_per_item_with_the_key_as_link_id(api: TestClient) -> None:
    _me_cfs_diary(api)
    bundle = Bundle.model_validate(api.get("/api/v1/export/fhir").json())
    responses = [
        entry.resource
        for entry in bundle.entry or []
        if isinstance(entry.resource, QuestionnaireResponse)
    ]

    assert len(responses) == 2
    first = {item.linkId: item for item in responses[0].item or []}
    assert set(first) == {
        "pain",
        "pem",
        "brain_fog",
        "custom_tinnitus_today",
        "nausea",
        "custom_itching",
    }
    assert first["pem"].answer[0].valueInteger == 70
    assert first["brain_fog"].answer[0].valueInteger == 0
    assert "Post-exertional malaise" in (first["pem"].text or "")
    assert "silent" in (first["custom_tinnitus_today"].text or "")


def test_the_backup_restores_own_items_and_the_tracked_set(
    api: TestClient, other_api: TestClient
) -> None:
    _me_cfs_diary(api)
    original = api.get("/api/v1/export").json()
    assert original["version"] == 2
    assert [row["key"] for row in original["items"]["own"]] == [
        "custom_tinnitus_today",
        "custom_itching",
    ]
    assert original["items"]["tracked"][0] == "brain_fog"
    assert original["entries"][0]["ratings"]["pem"] == 70

    imported = other_api.post("/api/v1/import", json=original)
    assert imported.status_code == 200, imported.text
    assert imported.json()["own_items_added"] == 2

    again = other_api.get("/api/v1/export").json()
    for key in ("dose_steps", "entries", "revisions", "items"):
        assert again[key] == original[key], key
    mine = [item for item in api.get("/api/v1/items").json() if item["tracked"]]
    theirs = [item for item in other_api.get("/api/v1/items").json() if item["tracked"]]
    assert [item["key"] for item in theirs] == [item["key"] for item in mine]
    assert other_api.get("/api/v1/entries/2026-03-02").json()["ratings"]["pem"] == 70


def test_a_version_1_backup_still_imports(api: TestClient) -> None:
    old: dict[str, Any] = {
        "format": "ldn-diary-backup",
        "version": 1,
        "exported_at": "2026-03-05T09:30:00+00:00",
        "account": {"email": "someone@example.org", "timezone": "UTC"},
        "dose_steps": [{"start_date": "2026-01-01", "dose_mg": 0.0}],
        "entries": [
            {
                "date": "2026-01-16",
                **{key: 50 for key in RATED_KEYS},
                "side_effects": {key: 0 for key in SIDE_EFFECT_KEYS},
                "other_text": None,
                "dose_taken": True,
                "notes": "old file",
                "source": "web",
                "retrospective": False,
            }
        ],
        "revisions": [
            {
                "date": "2026-01-16",
                "data": {"date": "2026-01-16", "pain": 65, "side_effects": {"nausea": None}},
                "source": "web",
                "saved_at": "2026-01-16T20:00:00+00:00",
                "replaced_at": "2026-01-16T21:00:00+00:00",
                "reason": "edited",
            }
        ],
    }

    response = api.post("/api/v1/import", json=old)

    assert response.status_code == 200, response.text
    day = api.get("/api/v1/entries/2026-01-16").json()
    assert day["pain"] == 50 and day["ratings"]["overall"] == 50
    assert day["side_effects"]["headache"] == 0
    history = api.get("/api/v1/entries/2026-01-16/revisions").json()
    assert history[0]["data"]["pain"] == 65


def test_a_backup_answering_an_unknown_item_is_refused_naming_it(api: TestClient) -> None:
    document = api.get("/api/v1/export").json()
    document["entries"] = [{"date": "2026-01-16", "ratings": {"custom_gone": 10}}]

    response = api.post("/api/v1/import", json=document)

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "entries[0].ratings.custom_gone"
