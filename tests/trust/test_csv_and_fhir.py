"""CSV for spreadsheets and the FHIR R4 Bundle."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.medicationstatement import MedicationStatement
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient

from app.items import RATED_KEYS, SIDE_EFFECT_KEYS
from app.models import User
from app.services.backup import CSV_OTHER_COLUMNS, spreadsheet_cell
from app.services.entries import patient_today


def read_csv(api: TestClient) -> list[dict[str, str]]:
    response = api.get("/api/v1/export.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM spreadsheets look for
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def test_the_header_is_the_spec_keys_with_side_effects_as_columns(api: TestClient) -> None:
    response = api.get("/api/v1/export.csv")

    header = response.content.decode("utf-8-sig").split("\r\n", 1)[0].split(",")
    assert header == ["date", *RATED_KEYS, *SIDE_EFFECT_KEYS, *CSV_OTHER_COLUMNS]
    assert header[0] == "date"
    assert set(RATED_KEYS) | set(SIDE_EFFECT_KEYS) <= set(header)
    for key in ("other_text", "dose_taken", "dose_time", "dose_mg", "dose_in_force_mg"):
        assert key in header
    for key in ("notes", "tolerability", "pgic", "source", "retrospective"):
        assert key in header


def test_one_row_per_day_with_the_dose_in_force(api: TestClient) -> None:
    api.post("/api/v1/dose-steps", json={"start_date": "2026-03-01", "dose_mg": 0})
    api.post("/api/v1/dose-steps", json={"start_date": "2026-03-05", "dose_mg": 1.5})
    api.put("/api/v1/entries/2026-02-28", json={"pain": 10})
    api.put("/api/v1/entries/2026-03-02", json={"pain": 40, "side_effects": {"nausea": 2}})
    api.put(
        "/api/v1/entries/2026-03-06",
        json={"fatigue": 0, "dose_taken": True, "dose_time": "21:30", "dose_mg": 2.25},
    )

    rows = read_csv(api)

    assert [row["date"] for row in rows] == ["2026-02-28", "2026-03-02", "2026-03-06"]
    before, baseline, dosed = rows
    assert before["dose_in_force_mg"] == ""
    assert (baseline["pain"], baseline["fatigue"], baseline["nausea"]) == ("40", "", "2")
    assert baseline["dose_in_force_mg"] == "0"
    assert (dosed["fatigue"], dosed["dose_taken"], dosed["dose_time"]) == ("0", "true", "21:30")
    assert (dosed["dose_mg"], dosed["dose_in_force_mg"]) == ("2.25", "1.5")
    assert (dosed["source"], dosed["retrospective"]) == ("api", "true")


def test_text_is_quoted_and_formulas_are_defused(api: TestClient) -> None:
    notes = 'Said "hi", then\nleft'
    api.put("/api/v1/entries/2026-03-02", json={"pain": 1, "notes": notes})
    api.put("/api/v1/entries/2026-03-03", json={"pain": 1, "notes": '=HYPERLINK("http://x","y")'})
    api.put(
        "/api/v1/entries/2026-03-04",
        json={"pain": 1, "notes": "+1 better", "other_text": "@SUM(A1)", "side_effects": {}},
    )
    api.put("/api/v1/entries/2026-03-05", json={"pain": 1, "notes": "-2 worse"})

    raw = api.get("/api/v1/export.csv").content.decode("utf-8-sig")
    rows = read_csv(api)

    assert '"Said ""hi"", then\nleft"' in raw
    assert rows[0]["notes"] == notes
    assert rows[1]["notes"] == '\'=HYPERLINK("http://x","y")'
    assert (rows[2]["notes"], rows[2]["other_text"]) == ("'+1 better", "'@SUM(A1)")
    assert rows[3]["notes"] == "'-2 worse"


def test_cells_that_start_like_a_formula_get_a_quote() -> None:
    for text in ("=1+1", "+1", "-1", "@A1", "\tx", "\rx"):
        assert spreadsheet_cell(text) == "'" + text
    assert spreadsheet_cell("fine = ok") == "fine = ok"
    assert spreadsheet_cell(None) == ""
    assert spreadsheet_cell(False) == "false"
    assert spreadsheet_cell(4.5) == "4.5"
    assert spreadsheet_cell(0) == "0"


def test_the_fhir_bundle_validates_as_r4(api: TestClient) -> None:
    api.post("/api/v1/dose-steps", json={"start_date": "2026-03-01", "dose_mg": 0})
    step = {"start_date": "2026-03-05", "dose_mg": 1.5, "dosing_time": "bedtime", "note": "start"}
    api.post("/api/v1/dose-steps", json=step)
    api.post("/api/v1/dose-steps", json={"start_date": "2026-03-20", "dose_mg": 3})
    api.put(
        "/api/v1/entries/2026-03-02",
        json={"pain": 40, "fatigue": 0, "side_effects": {"nausea": 2}, "notes": "tired"},
    )
    api.put(
        "/api/v1/entries/2026-03-06",
        json={
            "sleep_quality": 70,
            "dose_taken": True,
            "dose_time": "22:00",
            "dose_mg": 1.75,
            "tolerability": 90,
            "pgic": 2,
            "other_text": "dry mouth",
        },
    )

    response = api.get("/api/v1/export/fhir")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    bundle = Bundle.model_validate(response.json())
    assert bundle.type == "collection"
    resources = [entry.resource for entry in bundle.entry or []]
    [patient] = [item for item in resources if isinstance(item, Patient)]
    assert patient.name is None and patient.telecom is None
    assert patient.identifier and patient.identifier[0].value
    observations = [item for item in resources if isinstance(item, Observation)]
    statements = [item for item in resources if isinstance(item, MedicationStatement)]
    assert len(observations) == 4 + 7  # one per answered item per day
    assert len(statements) == 3

    by_code = {(str(o.effectiveDateTime), o.code.coding[0].code): o for o in observations}
    pain = by_code[("2026-03-02", "pain")]
    assert pain.valueInteger == 40
    assert pain.code.coding[0].system == "urn:ldn-diary:item"
    assert pain.subject.reference == bundle.entry[0].fullUrl
    assert by_code[("2026-03-02", "fatigue")].valueInteger == 0  # 0 is an answer, not missing
    assert by_code[("2026-03-02", "nausea")].valueInteger == 2
    assert by_code[("2026-03-06", "dose_taken")].valueBoolean is True
    assert float(by_code[("2026-03-06", "dose_mg")].valueQuantity.value) == 1.75
    assert by_code[("2026-03-06", "pgic")].valueInteger == 2
    assert ("2026-03-02", "sleep_quality") not in by_code  # unanswered: no observation

    baseline, first, current = statements
    assert baseline.status == "not-taken"
    assert (first.status, current.status) == ("completed", "active")
    assert str(first.effectivePeriod.start) == "2026-03-05"
    assert str(first.effectivePeriod.end) == "2026-03-19"
    assert current.effectivePeriod.end is None
    dose = first.dosage[0].doseAndRate[0].doseQuantity
    assert (float(dose.value), dose.unit, dose.code) == (1.5, "mg", "mg")
    assert first.dosage[0].timing.repeat.when == ["HS"]
    assert "naltrexone" in first.medicationCodeableConcept.text.lower()


def test_an_empty_diary_is_a_valid_bundle_too(api: TestClient) -> None:
    bundle = Bundle.model_validate(api.get("/api/v1/export/fhir").json())

    assert [type(entry.resource) for entry in bundle.entry or []] == [Patient]


def test_exports_need_a_token(client: TestClient) -> None:
    assert client.get("/api/v1/export.csv").status_code == 401
    assert client.get("/api/v1/export/fhir").status_code == 401


def test_the_patient_identifier_is_stable_and_not_the_email(api: TestClient) -> None:
    first = api.get("/api/v1/export/fhir").json()
    second = api.get("/api/v1/export/fhir").json()

    patient = first["entry"][0]["resource"]
    assert patient == second["entry"][0]["resource"]
    assert "@" not in str(patient)


def test_fhir_says_which_step_is_in_force_today_and_which_are_to_come(
    api: TestClient, user: User
) -> None:
    """The step in force today was "completed" (a later one existed) and a planned future
    step "active"."""
    today = patient_today(user)
    for offset, dose in ((-20, 0), (-10, 1.5), (5, 3)):
        start = (today + timedelta(days=offset)).isoformat()
        assert (
            api.post("/api/v1/dose-steps", json={"start_date": start, "dose_mg": dose}).status_code
            == 201
        )

    bundle = Bundle.model_validate(api.get("/api/v1/export/fhir").json())
    statements = [
        entry.resource
        for entry in bundle.entry or []
        if isinstance(entry.resource, MedicationStatement)
    ]

    assert [statement.status for statement in statements] == ["not-taken", "active", "intended"]
