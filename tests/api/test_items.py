"""Items are data (SPEC §2.5, §8): the catalogue, the patient's set and order, own items,
packs, and entries that answer any of them through `ratings` and `side_effects`."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.items import RATED_KEYS, SIDE_EFFECT_KEYS
from app.items.patient import MAX_OWN_ITEMS
from app.models import DiaryEntry, User
from tests.conftest import Browser
from tests.factories import PASSWORD, make_user

DAY = "2026-03-10"


def _tracked(api: TestClient) -> list[str]:
    listed = api.get("/api/v1/items").json()
    tracked = [item for item in listed if item["tracked"]]
    assert [item["position"] for item in tracked] == list(range(len(tracked)))
    return [item["key"] for item in tracked]


def test_the_catalogue_lists_built_ins_packs_with_this_patients_choices(api: TestClient) -> None:
    listed = api.get("/api/v1/items").json()
    by_key = {item["key"]: item for item in listed}

    assert set(RATED_KEYS) | set(SIDE_EFFECT_KEYS) <= set(by_key)
    for key in ("pem", "brain_fog", "orthostatic", "exertion", "joint_stiffness", "flu_like"):
        assert by_key[key]["source"] == "pack" and by_key[key]["kind"] == "rated"
    for key in ("abdominal_pain", "bowel_urgency"):
        assert by_key[key]["pack"] == "gut"
    for key in ("bloating_diarrhoea", "mood_swings", "libido_change", "palpitations"):
        assert by_key[key]["kind"] == "side_effect" and not by_key[key]["tracked"]
    assert by_key["pain"] == {
        "key": "pain",
        "kind": "rated",
        "label": "Pain today, on average",
        "short_label": "Pain",
        "low_anchor": "no pain",
        "high_anchor": "worst pain imaginable",
        "better": "lower",
        "source": "builtin",
        "pack": None,
        "tracked": True,
        "position": by_key["pain"]["position"],
        "hidden": False,
    }
    assert by_key["headache"]["low_anchor"] is None
    assert set(_tracked(api)) == set(RATED_KEYS) | set(SIDE_EFFECT_KEYS)
    assert by_key["overall"]["label"] == "Overall symptoms today"


def test_tracking_a_pack_and_answering_its_items(api: TestClient) -> None:
    packs = api.get("/api/v1/item-packs").json()
    assert [pack["key"] for pack in packs] == ["me_cfs", "autoimmune", "gut", "side_effects"]
    me_cfs = packs[0]
    assert [item["key"] for item in me_cfs["items"]] == [
        "pem",
        "brain_fog",
        "orthostatic",
        "exertion",
    ]

    tracked = api.post("/api/v1/item-packs/me_cfs/track")
    assert tracked.status_code == 200
    keys = _tracked(api)
    assert keys[-4:] == ["pem", "brain_fog", "orthostatic", "exertion"]

    saved = api.put(
        f"/api/v1/entries/{DAY}",
        json={"pain": 40, "ratings": {"pem": 70, "brain_fog": 0}, "side_effects": {"nausea": 1}},
    )
    assert saved.status_code == 201
    body = saved.json()
    assert body["pain"] == 40 and body["ratings"]["pain"] == 40
    assert body["ratings"]["pem"] == 70 and body["ratings"]["brain_fog"] == 0
    assert body["ratings"]["orthostatic"] is None
    assert body["side_effects"]["nausea"] == 1
    # Old clients: the eight built-in keys at the top level still go in and come out.
    old = api.put(f"/api/v1/entries/{DAY}", json={"fatigue": 55}).json()
    assert old["fatigue"] == 55 and old["pain"] is None and old["ratings"]["pem"] is None


def test_an_unknown_item_is_refused_naming_it_and_nothing_is_written(
    api: TestClient, session: Session
) -> None:
    rated = api.put(f"/api/v1/entries/{DAY}", json={"ratings": {"tinnitus": 40}})
    effect = api.put(f"/api/v1/entries/{DAY}", json={"side_effects": {"pain": 1}})
    batch = api.post(
        "/api/v1/entries/batch",
        json={"entries": [{"date": DAY, "pain": 1}, {"date": "2026-03-11", "ratings": {"x": 1}}]},
    )

    assert rated.status_code == 422
    assert rated.json()["detail"][0]["loc"] == ["body", "ratings", "tinnitus"]
    assert "tinnitus" in rated.json()["detail"][0]["msg"]
    assert effect.status_code == 422
    assert effect.json()["detail"][0]["loc"] == ["body", "side_effects", "pain"]
    assert batch.status_code == 422
    assert batch.json()["detail"][0]["loc"] == ["body", "entries", 1, "ratings", "x"]
    assert session.exec(select(DiaryEntry)).all() == []


def test_two_values_for_one_item_are_refused(api: TestClient) -> None:
    response = api.put(f"/api/v1/entries/{DAY}", json={"pain": 40, "ratings": {"pain": 41}})
    assert response.status_code == 422
    same = api.put(f"/api/v1/entries/{DAY}", json={"pain": 40, "ratings": {"pain": 40}})
    assert same.status_code == 201


def test_own_items_get_a_custom_key_and_can_be_answered(api: TestClient) -> None:
    created = api.post(
        "/api/v1/items",
        json={
            "label": "Tinnitus today",
            "low_anchor": "silent",
            "high_anchor": "unbearable",
            "better": "lower",
        },
    )
    effect = api.post("/api/v1/items", json={"label": "Itching", "kind": "side_effect"})
    missing = api.post("/api/v1/items", json={"label": "Half a scale", "low_anchor": "x"})

    assert created.status_code == 201
    assert created.json()["key"] == "custom_tinnitus_today"
    assert created.json()["source"] == "custom" and created.json()["tracked"]
    assert effect.status_code == 201 and effect.json()["kind"] == "side_effect"
    assert missing.status_code == 422
    saved = api.put(
        f"/api/v1/entries/{DAY}",
        json={"ratings": {"custom_tinnitus_today": 35}, "side_effects": {"custom_itching": 2}},
    )
    assert saved.status_code == 201
    assert saved.json()["ratings"]["custom_tinnitus_today"] == 35
    assert saved.json()["side_effects"]["custom_itching"] == 2


def test_an_own_item_with_data_is_hidden_not_deleted(api: TestClient) -> None:
    api.post("/api/v1/items", json={"label": "Unused", "low_anchor": "a", "high_anchor": "b"})
    api.post("/api/v1/items", json={"label": "Used", "low_anchor": "a", "high_anchor": "b"})
    api.put(f"/api/v1/entries/{DAY}", json={"ratings": {"custom_used": 12}})

    assert api.delete("/api/v1/items/custom_unused").status_code == 204
    assert api.delete("/api/v1/items/custom_used").status_code == 204
    assert api.delete("/api/v1/items/pain").status_code == 404

    by_key = {item["key"]: item for item in api.get("/api/v1/items").json()}
    assert "custom_unused" not in by_key
    assert by_key["custom_used"]["hidden"] and not by_key["custom_used"]["tracked"]
    assert api.get(f"/api/v1/entries/{DAY}").json()["ratings"]["custom_used"] == 12
    # Tracking it again brings it back.
    back = api.patch("/api/v1/items/custom_used", json={"tracked": True}).json()
    assert back["tracked"] and not back["hidden"]


def test_the_patient_picks_and_orders_items(api: TestClient) -> None:
    moved = api.patch("/api/v1/items/fatigue", json={"position": 0})
    assert moved.status_code == 200
    assert _tracked(api)[0] == "fatigue"
    api.patch("/api/v1/items/dream_vividness", json={"tracked": False})
    assert "dream_vividness" not in _tracked(api)
    api.patch("/api/v1/items/pem", json={"tracked": True, "position": 1})
    assert _tracked(api)[:2] == ["fatigue", "pem"]
    assert api.patch("/api/v1/items/nope", json={"tracked": True}).status_code == 404
    assert api.patch("/api/v1/items/pain", json={"tracked": "yes"}).status_code == 422
    # Untracked items keep being accepted: their data is kept and comes back when tracked.
    assert api.put(f"/api/v1/entries/{DAY}", json={"dream_vividness": 80}).status_code == 201


def test_another_patients_own_items_are_not_this_ones(
    api: TestClient, client: TestClient, session: Session
) -> None:
    other: User = make_user(session, email="other@example.org")
    assert other.id is not None
    api.post("/api/v1/items", json={"label": "Mine", "low_anchor": "a", "high_anchor": "b"})
    token = client.post("/api/v1/auth/token", json={"email": other.email, "password": PASSWORD})
    assert token.status_code == 200
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    keys = {item["key"] for item in client.get("/api/v1/items", headers=headers).json()}
    assert "custom_mine" not in keys
    refused = client.put(
        f"/api/v1/entries/{DAY}", json={"ratings": {"custom_mine": 1}}, headers=headers
    )
    assert refused.status_code == 422


def test_an_own_item_answered_only_in_an_earlier_version_is_hidden_not_deleted(
    api: TestClient,
) -> None:
    api.post("/api/v1/items", json={"label": "Once", "low_anchor": "a", "high_anchor": "b"})
    api.put(f"/api/v1/entries/{DAY}", json={"ratings": {"custom_once": 5}})
    api.put(f"/api/v1/entries/{DAY}", json={"pain": 5})  # the answer lives on in the history

    assert api.delete("/api/v1/items/custom_once").status_code == 204

    by_key = {item["key"]: item for item in api.get("/api/v1/items").json()}
    assert by_key["custom_once"]["hidden"]


def test_own_items_stop_at_the_most_a_day_can_hold_and_the_form_still_saves(
    api: TestClient, browser: Browser
) -> None:
    """Past about 200 own items the entry form could no longer save any day."""
    for number in range(MAX_OWN_ITEMS):
        made = api.post(
            "/api/v1/items",
            json={"label": f"Thing {number}", "low_anchor": "a", "high_anchor": "b"},
        )
        assert made.status_code == 201, made.text
    one_more = api.post(
        "/api/v1/items", json={"label": "One more", "low_anchor": "a", "high_anchor": "b"}
    )
    assert one_more.status_code == 422
    assert one_more.json()["detail"][0]["loc"] == ["body", "label"]
    assert "the most it keeps" in one_more.json()["detail"][0]["msg"]
    # A backup bringing one more of its own is refused whole, naming its own items.
    backup = api.get("/api/v1/export").json()
    backup["items"]["own"].append(
        {**backup["items"]["own"][0], "key": "custom_one_more", "label": "One more"}
    )
    imported = api.post("/api/v1/import", json=backup)
    assert imported.status_code == 422
    assert [item["field"] for item in imported.json()["detail"]] == ["items.own"]
    # Every tracked item on the form, and the day still saves.
    saved = browser.post(f"/entries/{DAY}", {"pain": "40"})
    assert saved.status_code == 303, saved.text[:500]
    assert api.get(f"/api/v1/entries/{DAY}").json()["pain"] == 40
