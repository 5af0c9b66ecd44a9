"""The patient's main (primary) item, chosen and saved (SPEC §4.1): /compare, the API and the
doctor's summary all lead with it; an unknown or untracked item is refused beside the field."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.items.patient import add_own_item, set_order, track_pack
from app.models import User
from app.services.entries import patient_today
from tests.conftest import Browser
from tests.factories import make_entry, make_step
from tests.report.pdfs import text_of


def words(html: str, selector: str) -> str:
    found = BeautifulSoup(html, "html.parser").select_one(selector)
    assert found is not None, f"nothing matches {selector}"
    return " ".join(found.get_text(" ").split())


@pytest.fixture
def diary(session: Session, user: User) -> date:
    """Baseline of 14 days, then 14 days of 1.5 mg: pain 60 → 30 and fatigue 70 → 45, both
    clearly better, so the headline holds both and its order shows which item leads."""
    today = patient_today(user)
    start = today - timedelta(days=27)
    make_step(session, user=user, start=start, dose_mg=0)
    make_step(session, user=user, start=start + timedelta(days=14), dose_mg=1.5)
    for offset in range(28):
        wobble = (offset % 3) - 1
        on_ldn = offset >= 14
        make_entry(
            session,
            user=user,
            day=start + timedelta(days=offset),
            pain=(30 if on_ldn else 60) + wobble,
            fatigue=(45 if on_ldn else 70) - wobble,
            dose_taken=on_ldn,
        )
    return start


def options(browser: Browser) -> dict[str, str]:
    page = BeautifulSoup(browser.get("/compare/main-item").text, "html.parser")
    return {
        option["value"]: " ".join(option.get_text().split())
        for option in page.select("select#primary_item option")
    }


def test_the_page_offers_every_tracked_rated_item_and_says_choose_before_looking(
    browser: Browser, session: Session, user: User
) -> None:
    before = options(browser)
    assert before["pain"] == "Pain" and "fatigue" in before and "sleep_quality" in before
    # Side effects (0–3) and items of a pack the patient does not track are not offered.
    assert "nausea" not in before and "pem" not in before
    track_pack(session, user=user, pack_key="me_cfs")
    own = add_own_item(session, user=user, label="Tinnitus", low_anchor="none", high_anchor="loud")
    after = options(browser)
    assert after["pem"] == "PEM (crash)" and after[own.key] == "Tinnitus"
    page = browser.get("/compare/main-item").text
    said = words(page, "main")
    assert "best to choose it before you look at your results" in said
    assert "Now: Pain (the default)" in said
    # A plain form: works without JavaScript, carries the CSRF token.
    form = BeautifulSoup(page, "html.parser").select_one("form[action='/compare/main-item']")
    assert form is not None and form["method"] == "post"
    assert form.select_one("input[name=csrf_token]")["value"]
    assert "hx-post" not in str(form)
    # Settings link to it.
    assert "/compare/main-item" in browser.get("/settings").text


def test_a_saved_main_item_leads_compare_the_api_and_the_pdf(
    browser: Browser, api: TestClient, session: Session, user: User, diary: date
) -> None:
    default = api.get("/api/v1/comparison").json()
    assert default["primary_item"] == "pain"
    assert default["steps"][1]["headline"][0] == "pain"

    response = browser.post("/compare/main-item", {"primary_item": "fatigue"})
    assert response.status_code == 303
    assert response.headers["location"] == "/compare/main-item?saved=1"
    session.expire_all()
    stored = session.get(User, user.id)
    assert stored is not None and stored.primary_item == "fatigue"
    assert "your main item is now Fatigue" in words(
        browser.get("/compare/main-item?saved=1").text, "main"
    )

    body = api.get("/api/v1/comparison").json()
    assert body["primary_item"] == "fatigue"
    assert body["steps"][1]["headline"] == ["fatigue", "pain"]
    # The address still overrides the saved choice.
    assert api.get("/api/v1/comparison?primary_item=pain").json()["primary_item"] == "pain"

    page = browser.get("/compare").text
    assert words(page, ".compare-summary").startswith("At 1.5 mg: fatigue clearly lower (better)")
    assert "Your main item: Fatigue" in words(page, ".main-item")
    assert "fatigue" in words(page, ".compare-lead .detect").lower()

    pdf = api.get("/api/v1/report.pdf")
    assert pdf.status_code == 200
    text = text_of(pdf.content)
    assert "Main item, chosen by the patient: Fatigue" in text
    headline = text.index("At 1.5 mg: fatigue clearly lower (better)")
    assert headline < text.index("pain clearly lower (better)")


@pytest.mark.parametrize(
    ("asked", "said"),
    [
        ("tinnitus", "not one of the items you rate"),
        ("nausea", "not one of the items you rate"),  # a side effect, rated 0–3
        ("pem", "“PEM (crash)” is not on your daily form"),  # a pack item not tracked
        ("", "Choose one of your items"),
    ],
)
def test_an_unknown_or_untracked_item_is_refused_beside_the_field(
    browser: Browser, session: Session, user: User, asked: str, said: str
) -> None:
    response = browser.post("/compare/main-item", {"primary_item": asked})
    assert response.status_code == 422
    page = BeautifulSoup(response.text, "html.parser")
    error = page.select_one("#primary_item-error")
    assert error is not None and said in " ".join(error.get_text().split())
    assert page.select_one("select#primary_item")["aria-invalid"] == "true"
    session.expire_all()
    stored = session.get(User, user.id)
    assert stored is not None and stored.primary_item is None


def test_nothing_is_saved_without_the_form_token(
    client: TestClient, browser: Browser, session: Session, user: User
) -> None:
    response = client.post("/compare/main-item", data={"primary_item": "fatigue"})
    assert response.status_code == 403
    session.expire_all()
    stored = session.get(User, user.id)
    assert stored is not None and stored.primary_item is None


def test_an_own_item_can_be_primary_and_an_untracked_one_falls_back_to_pain(
    browser: Browser, api: TestClient, session: Session, user: User, diary: date
) -> None:
    own = add_own_item(session, user=user, label="Tinnitus", low_anchor="none", high_anchor="loud")
    assert browser.post("/compare/main-item", {"primary_item": own.key}).status_code == 303
    assert api.get("/api/v1/comparison").json()["primary_item"] == own.key
    assert "Your main item: Tinnitus" in words(browser.get("/compare").text, ".main-item")
    # Fatigue chosen, then taken off the daily form: the summaries go back to pain.
    assert browser.post("/compare/main-item", {"primary_item": "fatigue"}).status_code == 303
    tracked = [key for key in options(browser) if key != "fatigue"]
    set_order(session, user=user, tracked_keys=tracked)
    session.commit()  # set_order leaves the commit to its caller
    assert api.get("/api/v1/comparison").json()["primary_item"] == "pain"
    assert "Now: Pain" in words(browser.get("/compare/main-item").text, "main")


def test_the_chosen_main_item_travels_in_the_backup(
    browser: Browser, api: TestClient, client: TestClient, session: Session, user: User
) -> None:
    assert browser.post("/compare/main-item", {"primary_item": "fatigue"}).status_code == 303
    backup = api.get("/api/v1/export").json()
    assert backup["items"]["primary_item"] == "fatigue"

    from tests.factories import PASSWORD, make_user

    other = make_user(session, email="restored@example.org")
    token = client.post("/api/v1/auth/token", json={"email": other.email, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert other.primary_item is None
    assert client.post("/api/v1/import", json=backup, headers=headers).status_code == 200
    session.expire_all()
    restored = session.get(User, other.id)
    assert restored is not None and restored.primary_item == "fatigue"

    backup["items"]["primary_item"] = "not a key!"
    refused = client.post("/api/v1/import", json=backup, headers=headers)
    assert refused.status_code == 422
    assert "primary_item" in refused.text
