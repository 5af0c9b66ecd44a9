"""/settings/items and /welcome: the patient picks, orders and adds items; onboarding offers
the pack that fits the condition (SPEC §2.5). Plain forms with CSRF, POST → 303 → GET."""

from __future__ import annotations

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.items.patient import catalogue_for
from app.models import User
from tests.conftest import Browser, csrf_from
from tests.factories import make_entry


def _tracked(session: Session, user: User) -> list[str]:
    session.expire_all()
    return [item.key for item in catalogue_for(session, user=user).items(tracked=True)]


def test_the_page_lists_the_tracked_items_in_order_and_the_packs(browser: Browser) -> None:
    page = BeautifulSoup(browser.get("/settings/items").text, "html.parser")
    tracked = [li["data-item"] for li in page.select("[data-tracked-items] li")]
    assert tracked[:3] == ["pain", "fatigue", "sleep_quality"]
    assert {section["data-pack"] for section in page.select("[data-pack]")} == {
        "me_cfs",
        "autoimmune",
        "gut",
        "side_effects",
    }
    for form in page.select("form[method=post]"):
        assert form.select_one("input[name=csrf_token]"), form


def test_tracking_moving_and_stopping(browser: Browser, session: Session, user: User) -> None:
    assert browser.post("/settings/items/packs/me_cfs", {}).status_code == 303
    assert "pem" in _tracked(session, user)
    browser.post("/settings/items/brain_fog/move", {"direction": "up"})
    keys = _tracked(session, user)
    assert keys.index("brain_fog") < keys.index("pem")
    browser.post("/settings/items/dream_vividness/track", {"tracked": "0"})
    assert "dream_vividness" not in _tracked(session, user)
    browser.post("/settings/items/dream_vividness/track", {"tracked": "1"})
    assert _tracked(session, user)[-1] == "dream_vividness"


def test_an_own_item_is_added_and_with_data_only_hidden(
    browser: Browser, session: Session, user: User
) -> None:
    missing = browser.post("/settings/items/own", {"label": "Tinnitus", "low_anchor": "silent"})
    assert missing.status_code == 422
    page = BeautifulSoup(missing.text, "html.parser")
    assert page.select_one("#high_anchor-error").get_text(strip=True)
    assert page.select_one("#label")["value"] == "Tinnitus"

    added = browser.post(
        "/settings/items/own",
        {"label": "Tinnitus", "low_anchor": "silent", "high_anchor": "unbearable"},
    )
    assert added.status_code == 303
    assert "custom_tinnitus" in _tracked(session, user)
    form = BeautifulSoup(browser.get("/today").text, "html.parser")
    assert form.select_one("input[name=custom_tinnitus]") is not None

    from datetime import date

    make_entry(session, user=user, day=date(2026, 3, 2), ratings={"custom_tinnitus": 30})
    browser.post("/settings/items/custom_tinnitus/remove", {})
    session.expire_all()
    entry = catalogue_for(session, user=user).entry("custom_tinnitus")
    assert entry is not None and entry.hidden and not entry.tracked


def test_the_form_keeps_answers_of_items_it_does_not_show(
    browser: Browser, session: Session, user: User
) -> None:
    from datetime import date

    day = date(2026, 3, 2)
    make_entry(session, user=user, day=day, ratings={"pem": 60, "pain": 10})
    page = browser.get(f"/entries/{day.isoformat()}").text
    assert 'name="pem"' not in page  # not tracked: not asked
    browser.post(f"/entries/{day.isoformat()}", {"pain": "20"})
    session.expire_all()
    from app.services.entries import get_entry

    assert user.id is not None
    saved = get_entry(session, user_id=user.id, day=day)
    assert saved is not None and saved.ratings == {"pain": 20, "pem": 60}


def test_registration_asks_what_ldn_is_for_and_offers_the_pack(
    client: TestClient, session: Session
) -> None:
    form = client.get("/register")
    token = csrf_from(form.text)
    registered = client.post(
        "/register",
        data={
            "email": "new@example.org",
            "password": "a long enough passphrase here",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert registered.status_code == 303
    assert registered.headers["location"] == "/welcome"
    welcome = client.get("/welcome")
    assert "What do you take LDN for?" in welcome.text
    answered = client.post(
        "/welcome",
        data={"condition": "long_covid", "add_pack": "1", "csrf_token": csrf_from(welcome.text)},
        follow_redirects=False,
    )
    assert answered.status_code == 303
    today = BeautifulSoup(client.get("/today").text, "html.parser")
    assert "Overall long COVID symptoms today" in today.get_text(" ")
    assert today.select_one("input[name=pem]") is not None
    assert today.select_one("input[name=brain_fog]") is not None


def test_a_synced_day_can_answer_pack_items_and_an_unknown_one_is_rejected(
    browser: Browser, session: Session, user: User
) -> None:
    from datetime import date

    browser.post("/settings/items/packs/me_cfs", {})
    page = browser.get("/today").text
    token = csrf_from(page)
    day = date(2026, 3, 2).isoformat()
    payload = {
        "entries": [
            {"date": day, "ratings": {"pem": 44, "pain": 10}, "tolerability": 80},
            {"date": "2026-03-03", "ratings": {"custom_nothing": 1}},
        ]
    }
    response = browser.client.post("/sync", json=payload, headers={"X-CSRF-Token": token})
    assert response.status_code == 200, response.text
    first, second = response.json()["results"]
    assert first["status"] == "created"
    assert second["status"] == "rejected" and "ratings.custom_nothing" in second["errors"]
    from app.services.entries import get_entry

    assert user.id is not None
    session.expire_all()
    saved = get_entry(session, user_id=user.id, day=date(2026, 3, 2))
    assert saved is not None and saved.ratings == {"pain": 10, "pem": 44}
    assert saved.tolerability == 80
