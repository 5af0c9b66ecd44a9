"""The diary as a FHIR R4 Bundle, for health records and other apps (SPEC §10).

A Bundle of type "collection" holding:
- one Patient with an identifier only (no name, no email: the file may travel);
- one QuestionnaireResponse per day: an answer per answered item (built-in, pack or own),
  `linkId` the item key, `text` its question;
- one Observation per answered item per day, coded in the diary's own code system
  (`urn:ldn-diary:item`, the SPEC §2 keys: there are no LOINC codes for these scales),
  `effectiveDateTime` the diary day, the answer as valueInteger (scores, severities,
  tolerability, PGIC), valueBoolean (dose taken), valueTime, valueQuantity or valueString;
- one MedicationStatement per dose step: naltrexone, `effectivePeriod` from the step's start
  to the day before the next step, the dose as `dosage.doseAndRate.doseQuantity` in mg.
Plain dictionaries in the R4 JSON shape; the tests validate them with fhir.resources (R4B
models, which read R4 documents of these resource types unchanged).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session

from app.items import PGIC_LABELS
from app.items.patient import Catalogue, catalogue_for
from app.models import DiaryEntry, User, utcnow
from app.services import entries
from app.services.dose_steps import list_steps, timeline
from app.services.revisions import as_utc

ITEM_SYSTEM = "urn:ldn-diary:item"
PATIENT_SYSTEM = "urn:ldn-diary:patient"
SOURCE_SYSTEM = "urn:ldn-diary:source"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
NALTREXONE_RXCUI = "7243"
UCUM = "http://unitsofmeasure.org"
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
# Stable ids within one account, unguessable from outside (the account's creation time).
_NAMESPACE = uuid.UUID("5b0c8f0e-3d0a-4f5c-9a38-1d2f8f1f4a11")
_WHEN = {"morning": "MORN", "bedtime": "HS"}

_EXTRA_ITEMS: dict[str, str] = {
    "tolerability": "How well do you tolerate LDN? (0 not at all, 100 perfectly)",
    "pgic": "Patient Global Impression of Change (1 very much improved, 7 very much worse)",
    "other_text": "Other side effect, described",
    "dose_taken": "LDN taken",
    "dose_time": "Time LDN was taken",
    "dose_mg": "Dose taken, when it differed from the schedule",
    "notes": "Notes",
}


def _display(key: str, catalogue: Catalogue) -> str:
    item = catalogue.get(key)
    if item is None:
        return _EXTRA_ITEMS.get(key, key)
    if item.is_rated:
        return f"{item.question} ({item.scale_text})"
    return f"Side effect: {item.label} ({item.scale_text})"


def _item_answers(entry: DiaryEntry) -> dict[str, Any]:
    """Every answer of the day by key: the items, then the other answers."""
    answers = entries.answers_dict(entry)
    flat: dict[str, Any] = {**answers.pop("ratings"), **answers.pop("side_effects")}
    flat.update(answers)
    return flat


def _urn(user: User, name: str) -> str:
    created = as_utc(user.created_at).isoformat()
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{user.id}:{created}:{name}')}"


def _value(key: str, value: Any) -> dict[str, Any]:
    if key == "dose_taken":
        return {"valueBoolean": value}
    if key == "dose_time":
        return {"valueTime": f"{value}:00"}
    if key == "dose_mg":
        return {"valueQuantity": {"value": value, "unit": "mg", "system": UCUM, "code": "mg"}}
    if isinstance(value, str):
        return {"valueString": value}
    return {"valueInteger": value}


def _questionnaire_response(
    user: User, entry: DiaryEntry, patient: str, catalogue: Catalogue
) -> dict[str, Any]:
    """The day's answers to the diary's items, one per item, linkId = the item key."""
    day = entry.day.isoformat()
    answers = entries.answers_dict(entry)
    listed = [*answers["ratings"].items(), *answers["side_effects"].items()]
    return {
        "resourceType": "QuestionnaireResponse",
        "id": _urn(user, f"{day}:answers").removeprefix("urn:uuid:"),
        "status": "completed",
        "subject": {"reference": patient},
        "authored": as_utc(entry.updated_at).isoformat(),
        "item": [
            {"linkId": key, "text": _display(key, catalogue), "answer": [{"valueInteger": value}]}
            for key, value in listed
        ],
    }


def _observations(
    user: User, entry: DiaryEntry, patient: str, catalogue: Catalogue
) -> list[dict[str, Any]]:
    day = entry.day.isoformat()
    resources = []
    for key, value in _item_answers(entry).items():
        if value is None:
            continue
        observation: dict[str, Any] = {
            "resourceType": "Observation",
            "id": _urn(user, f"{day}:{key}").removeprefix("urn:uuid:"),
            "status": "final",
            "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": "survey"}]}],
            "code": {
                "coding": [
                    {"system": ITEM_SYSTEM, "code": key, "display": _display(key, catalogue)}
                ],
                "text": _display(key, catalogue),
            },
            "subject": {"reference": patient},
            "effectiveDateTime": day,
            "issued": as_utc(entry.updated_at).isoformat(),
            "method": {"coding": [{"system": SOURCE_SYSTEM, "code": entry.source}]},
            **_value(key, value),
        }
        if key == "pgic":
            observation["interpretation"] = [{"text": PGIC_LABELS[value]}]
        resources.append(observation)
    return resources


def _statements(user: User, session: Session, patient: str) -> list[dict[str, Any]]:
    assert user.id is not None
    resources = []
    today = entries.patient_today(user)
    for row in timeline(list_steps(session, user_id=user.id)):
        step = row.step
        period = {"start": step.start_date.isoformat()}
        if row.end_date is not None:
            period["end"] = row.end_date.isoformat()
        dosage: dict[str, Any] = {
            "text": row.label,
            "doseAndRate": [
                {
                    "doseQuantity": {
                        "value": step.dose_mg,
                        "unit": "mg",
                        "system": UCUM,
                        "code": "mg",
                    }
                }
            ],
        }
        if step.dosing_time in _WHEN:
            dosage["timing"] = {"repeat": {"when": [_WHEN[step.dosing_time]]}}
        if step.dose_mg == 0:
            status = "not-taken"  # a baseline or a pause: the period is known, no drug taken
        elif step.start_date > today:
            status = "intended"  # a step of the plan, still to come
        elif row.end_date is None or row.end_date >= today:
            status = "active"  # the step in force today
        else:
            status = "completed"
        statement: dict[str, Any] = {
            "resourceType": "MedicationStatement",
            "id": _urn(user, f"step:{step.start_date.isoformat()}").removeprefix("urn:uuid:"),
            "status": status,
            "medicationCodeableConcept": {
                "coding": [{"system": RXNORM, "code": NALTREXONE_RXCUI, "display": "naltrexone"}],
                "text": "Naltrexone (low dose)",
            },
            "subject": {"reference": patient},
            "effectivePeriod": period,
            "dateAsserted": as_utc(step.updated_at).isoformat(),
            "dosage": [dosage],
        }
        if step.note:
            statement["note"] = [{"text": step.note}]
        resources.append(statement)
    return resources


def export_bundle(session: Session, *, user: User) -> dict[str, Any]:
    """The whole diary as a FHIR R4 Bundle (type "collection")."""
    assert user.id is not None
    patient_url = _urn(user, "patient")
    patient = {
        "resourceType": "Patient",
        "id": patient_url.removeprefix("urn:uuid:"),
        "identifier": [{"system": PATIENT_SYSTEM, "value": patient_url.removeprefix("urn:uuid:")}],
    }
    resources: list[dict[str, Any]] = [patient]
    resources += _statements(user, session, patient_url)
    catalogue = catalogue_for(session, user=user)
    for entry in entries.list_entries(session, user_id=user.id):
        if entry.ratings or entry.side_effects:
            resources.append(_questionnaire_response(user, entry, patient_url, catalogue))
        resources += _observations(user, entry, patient_url, catalogue)
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": as_utc(utcnow()).isoformat(),
        "entry": [
            {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}
            for resource in resources
        ],
    }
