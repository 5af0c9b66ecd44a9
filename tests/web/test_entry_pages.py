"""/today and /entries/{date}: the daily form, saved with and without htmx."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from app.items import RATED_ITEMS, SIDE_EFFECT_KEYS
from app.models import DiaryEntry, EntryRevision, User
from app.services.entries import patient_today
from tests.conftest import Browser
from tests.factories import make_entry, make_step
from tests.pages import error_beside, field_box, form_data, one, parse, text_of

DAY = date(2026, 3, 10)
URL = f"/entries/{DAY}"


def blank_form(browser: Browser, url: str = URL) -> dict[str, str]:
    """The entry form as a browser would post it untouched."""
    response = browser.get(url)
    assert response.status_code == 200
    return form_data(one(parse(response), "form#entry-form"))


def answer(form: dict[str, str], **values: int) -> dict[str, str]:
    """Move sliders: the value is set and the "not answered" box goes off."""
    for key, value in values.items():
        form[key] = str(value)
        form.pop(f"{key}_unanswered", None)
    return form


def stored(session: Session) -> list[DiaryEntry]:
    session.expire_all()
    return list(session.exec(select(DiaryEntry)))


def test_today_shows_all_eight_items_untouched(browser: Browser, user: User) -> None:
    response = browser.get("/today")

    assert response.status_code == 200
    soup = parse(response)
    form = one(soup, "form#entry-form")
    assert form.get("method") == "post"
    assert form.get("action") == f"/entries/{patient_today(user)}"
    for item in RATED_ITEMS:
        slider = one(form, f"input[type=range][name={item.key}]")
        assert (slider.get("min"), slider.get("max")) == ("0", "100")
        label_id = slider.get("aria-labelledby")
        assert isinstance(label_id, str)
        assert text_of(one(soup, f"#{label_id}")) == item.question
        box = field_box(soup, item.key)
        anchors = text_of(box)
        assert f"0 = {item.low_anchor}" in anchors
        assert f"100 = {item.high_anchor}" in anchors
        unanswered = one(box, f"input[type=checkbox][name={item.key}_unanswered]")
        assert unanswered.has_attr("checked")
        assert text_of(one(box, "output")) == "not answered"


def test_every_range_input_has_a_label(browser: Browser) -> None:
    soup = parse(browser.get("/today"))

    sliders = soup.select("input[type=range]")
    assert len(sliders) == len(RATED_ITEMS) + 1  # and tolerability
    for slider in sliders:
        label_id = slider.get("aria-labelledby")
        assert isinstance(label_id, str), slider
        assert text_of(one(soup, f"#{label_id}")), slider


def test_side_effects_offer_none_to_severe_and_start_unanswered(browser: Browser) -> None:
    soup = parse(browser.get("/today"))

    for key in SIDE_EFFECT_KEYS:
        choices = soup.select(f"input[type=radio][name={key}]")
        assert [choice.get("value") for choice in choices] == ["0", "1", "2", "3", ""]
        assert [choice.has_attr("checked") for choice in choices] == [False] * 4 + [True]
        labels = [text_of(choice.parent) for choice in choices if choice.parent is not None]
        assert labels[:4] == ["none", "mild", "moderate", "severe"]


def test_posting_a_day_stores_null_for_unanswered_items(browser: Browser, session: Session) -> None:
    form = answer(blank_form(browser), pain=30, sleep_quality=0)
    form |= {"headache": "2", "dose_taken": "yes", "dose_time": "22:30", "notes": "Long walk"}

    response = browser.post(URL, form)

    assert response.status_code == 303
    assert response.headers["location"] == f"{URL}?saved=1"
    [entry] = stored(session)
    assert (
        entry.ratings.get("pain"),
        entry.ratings.get("sleep_quality"),
        entry.side_effects.get("headache"),
    ) == (30, 0, 2)
    assert (entry.dose_taken, entry.dose_time, entry.notes) == (True, "22:30", "Long walk")
    assert entry.ratings.get("fatigue") is None  # the slider posted 50, but it was never moved
    assert entry.ratings.get("mood") is None
    assert entry.side_effects.get("nausea") is None
    assert entry.tolerability is None
    assert entry.pgic is None
    assert entry.source == "web"


def test_the_saved_day_opens_with_its_answers(browser: Browser, session: Session) -> None:
    browser.post(URL, answer(blank_form(browser), pain=30) | {"headache": "2"})

    response = browser.get(f"{URL}?saved=1")

    soup = parse(response)
    assert "Saved" in text_of(one(soup, "[data-save-status]"))
    assert one(soup, "input[name=pain]").get("value") == "30"
    assert not one(soup, "input[name=pain_unanswered]").has_attr("checked")
    assert one(soup, "input[name=fatigue_unanswered]").has_attr("checked")
    assert one(soup, "input[name=headache][value='2']").has_attr("checked")


def test_htmx_saves_in_place_and_answers_with_the_form_only(
    browser: Browser, session: Session
) -> None:
    form = answer(blank_form(browser), mood=70)
    form.pop("csrf_token")

    response = browser.client.post(
        URL, data=form, headers={"HX-Request": "true", "X-CSRF-Token": browser.csrf}
    )

    assert response.status_code == 200
    assert "HX-Request" in response.headers["vary"]
    assert "<html" not in response.text.lower()
    soup = parse(response)
    assert soup.select_one("form#entry-form") is not None
    assert "Saved" in text_of(one(soup, "[data-save-status]"))
    assert [entry.ratings.get("mood") for entry in stored(session)] == [70]


def test_an_htmx_save_of_a_logged_day_answers_with_its_new_history(
    browser: Browser, session: Session
) -> None:
    browser.post(URL, answer(blank_form(browser), pain=30))
    form = answer(blank_form(browser), pain=45)
    form.pop("csrf_token")

    response = browser.client.post(
        URL, data=form, headers={"HX-Request": "true", "X-CSRF-Token": browser.csrf}
    )

    soup = parse(response)
    assert one(soup, "form#entry-form").get("hx-target") == "#day"
    day = one(soup, "div#day")
    assert day.select_one("form#entry-form") is not None
    [version] = day.select(".day-history li[data-revision]")
    assert "Pain" in text_of(version) and "30" in text_of(version)
    assert day.select_one(f"form[action='{URL}/delete']") is not None


def test_a_full_page_and_a_fragment_both_say_vary(browser: Browser) -> None:
    page = browser.get(URL)
    fragment = browser.client.get(URL, headers={"HX-Request": "true"})

    assert "HX-Request" in page.headers["vary"]
    assert "HX-Request" in fragment.headers["vary"]
    assert "<html" in page.text.lower()
    assert "<html" not in fragment.text.lower()


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"pain": "150"}, "pain", "100 or less"),
        ({"pain": "-3"}, "pain", "0 or more"),
        ({"pain": "fifty"}, "pain", "whole number"),
        ({"notes": "n" * 2001}, "notes", "at most 2000"),
        ({"other_text": "o" * 201}, "other_text", "at most 200"),
        ({"dose_time": "25:00"}, "dose_time", "21:30"),
        ({"dose_mg": "lots"}, "dose_mg", "from 0 to 50 mg"),
        ({"dose_mg": "-1"}, "dose_mg", "from 0 to 50 mg"),
        ({"dose_mg": "51"}, "dose_mg", "from 0 to 50 mg"),
        ({"dose_mg": "1.1255"}, "dose_mg", "three decimals"),
        ({"headache": "4"}, "headache", "3 or less"),
        ({"pgic": "8"}, "pgic", "7 or less"),
        ({"tolerability": "101"}, "tolerability", "100 or less"),
    ],
)
def test_a_bad_value_shows_beside_its_field_and_keeps_the_rest(
    browser: Browser, session: Session, change: dict[str, str], field: str, says: str
) -> None:
    form = answer(blank_form(browser), fatigue=40)
    form["notes"] = "Bad flare after the drive"
    for key in change:
        form.pop(f"{key}_unanswered", None)
    form |= change

    response = browser.post(URL, form)

    assert response.status_code == 422
    soup = parse(response)
    message = error_beside(soup, field)
    assert says in message
    box = field_box(soup, field)
    assert box.select_one(f"#{field}-error") is not None, "the message is not beside the field"
    # The list on top names the field and links to its control.
    summary = one(soup, "#error-summary[role=alert]")
    [link] = summary.select("a")
    assert says in text_of(link)
    target = one(soup, str(link.get("href")))
    assert target.get("name") == field
    if field in ("headache", "pgic"):  # radio groups: the fieldset is marked and described
        assert "has-error" in box.get_attribute_list("class")
        assert box.get("aria-describedby") == f"{field}-error"
    else:
        assert one(box, f"[name={field}]").get("aria-invalid") == "true"
    # What the patient entered is still there.
    assert one(soup, "input[name=fatigue]").get("value") == "40"
    assert not one(soup, "input[name=fatigue_unanswered]").has_attr("checked")
    kept_notes = change.get("notes", "Bad flare after the drive")
    assert one(soup, "textarea[name=notes]").get_text() == kept_notes
    if field in ("pain", "tolerability", "dose_mg", "dose_time", "other_text"):
        assert one(soup, f"input[name={field}]").get("value") == change[field]
    assert stored(session) == []


def test_what_the_patient_writes_is_shown_as_text_never_as_markup(
    browser: Browser, session: Session
) -> None:
    note = '<script src="/static/evil.js"></script><b onclick="x()">bold</b>'
    form = answer(blank_form(browser), pain=10) | {"notes": note, "other_text": '"><img src=x>'}
    browser.post(URL, form)

    soup = parse(browser.get(URL))

    assert one(soup, "textarea[name=notes]").get_text() == note
    assert one(soup, "input[name=other_text]").get("value") == '"><img src=x>'
    assert soup.select("main script, main b, main img") == []


def test_an_htmx_post_with_a_bad_value_answers_422_with_the_fragment(
    browser: Browser, session: Session
) -> None:
    form = answer(blank_form(browser), pain=150)
    form.pop("csrf_token")

    response = browser.client.post(
        URL, data=form, headers={"HX-Request": "true", "X-CSRF-Token": browser.csrf}
    )

    assert response.status_code == 422
    assert "<html" not in response.text.lower()
    assert "100 or less" in error_beside(parse(response), "pain")
    assert stored(session) == []


def test_an_empty_form_asks_for_at_least_one_answer(browser: Browser, session: Session) -> None:
    response = browser.post(URL, blank_form(browser))

    assert response.status_code == 422
    alert = one(parse(response), "[role=alert]")
    assert "Answer at least one" in text_of(alert)
    # Beside Save, where the thumb is, and it takes the focus.
    assert alert.get("id") == "save-error" and alert.find_parent(class_="savebar") is not None
    assert alert.has_attr("autofocus")
    assert stored(session) == []


def test_an_existing_day_can_be_cleared_again(
    browser: Browser, session: Session, user: User
) -> None:
    make_entry(session, user=user, day=DAY, pain=40, mood=60, headache=1)
    form = blank_form(browser)
    assert form["pain"] == "40"
    assert "pain_unanswered" not in form
    assert form["headache"] == "1"

    form["pain_unanswered"] = "1"
    form["headache"] = ""
    response = browser.post(URL, form)

    assert response.status_code == 303
    [entry] = stored(session)
    assert (
        entry.ratings.get("pain"),
        entry.ratings.get("mood"),
        entry.side_effects.get("headache"),
    ) == (None, 60, None)
    [revision] = session.exec(select(EntryRevision)).all()
    assert revision.data["pain"] == 40


def test_clearing_every_answer_of_a_day_is_refused_not_saved_as_blank(
    browser: Browser, session: Session, user: User
) -> None:
    make_entry(session, user=user, day=DAY, pain=40)
    form = blank_form(browser)
    form["pain_unanswered"] = "1"

    response = browser.post(URL, form)

    assert response.status_code == 422
    assert [entry.ratings.get("pain") for entry in stored(session)] == [40]


@pytest.mark.parametrize("days_ahead", [2, 30])
def test_a_future_day_is_not_found(
    browser: Browser, session: Session, user: User, days_ahead: int
) -> None:
    future = patient_today(user) + timedelta(days=days_ahead)

    page = browser.get(f"/entries/{future}")
    saved = browser.post(f"/entries/{future}", {"pain": "10"})

    assert page.status_code == 404
    assert one(parse(page), "h1").get_text(strip=True) == "Not found"
    # Said plainly, not "it may have been deleted".
    assert "You can fill in today or tomorrow" in one(parse(page), ".lead").get_text()
    assert saved.status_code == 404
    assert "You can fill in today or tomorrow" in one(parse(saved), ".lead").get_text()
    assert stored(session) == []


def test_tomorrow_can_be_filled_in(browser: Browser, session: Session, user: User) -> None:
    tomorrow = patient_today(user) + timedelta(days=1)
    form = answer(blank_form(browser, f"/entries/{tomorrow}"), pain=20)

    assert browser.post(f"/entries/{tomorrow}", form).status_code == 303
    assert [entry.day for entry in stored(session)] == [tomorrow]


@pytest.mark.parametrize("day", ["2026-02-30", "yesterday", "1999-12-31"])
def test_an_impossible_day_is_not_found(browser: Browser, session: Session, day: str) -> None:
    assert browser.get(f"/entries/{day}").status_code == 404
    assert browser.post(f"/entries/{day}", {"pain": "10"}).status_code == 404
    assert stored(session) == []


def test_the_dose_step_in_force_is_shown(browser: Browser, session: Session, user: User) -> None:
    make_step(session, user=user, start=DAY - timedelta(days=20), dose_mg=0)
    make_step(session, user=user, start=DAY - timedelta(days=3), dose_mg=1.5, dosing_time="bedtime")
    make_step(session, user=user, start=DAY + timedelta(days=1), dose_mg=3)

    shown = text_of(one(parse(browser.get(URL)), "#dose-in-force"))

    assert "1.5 mg at bedtime" in shown
    assert "7 Mar 2026" in shown
    before = parse(browser.get(f"/entries/{DAY - timedelta(days=30)}"))
    assert "before your first dose step" in text_of(one(before, ".dose-in-force"))


def test_without_steps_the_form_points_to_the_schedule(browser: Browser) -> None:
    soup = parse(browser.get("/today"))

    assert soup.select_one("#dose-in-force") is None
    assert soup.select_one("form#entry-form a[href='/doses']") is not None


def test_the_two_week_check_in_opens_when_due(
    browser: Browser, session: Session, user: User
) -> None:
    today = patient_today(user)
    assert not one(parse(browser.get("/today")), "details.check-in").has_attr("open")

    make_entry(session, user=user, day=today - timedelta(days=14), pain=50)
    soup = parse(browser.get("/today"))

    check_in = one(soup, "details.check-in")
    assert check_in.has_attr("open")
    assert "due today" in text_of(one(check_in, "summary"))
    assert check_in.select_one("input[type=range][name=tolerability]") is not None
    assert len(check_in.select("input[type=radio][name=pgic]")) == 8
    # A past day is not "due today": it offers the check-in closed, without the word.
    past = parse(browser.get(f"/entries/{today - timedelta(days=1)}"))
    assert not one(past, "details.check-in").has_attr("open")
    assert "due" not in text_of(one(past, "details.check-in summary"))


def test_before_the_first_dose_the_form_asks_neither_dose_nor_tolerability(
    browser: Browser, session: Session, user: User
) -> None:
    today = patient_today(user)
    make_step(session, user=user, start=today - timedelta(days=20), dose_mg=0)
    make_step(session, user=user, start=today + timedelta(days=1), dose_mg=1.5)
    make_entry(session, user=user, day=today - timedelta(days=15), pain=50)

    soup = parse(browser.get("/today"))

    assert soup.select_one("input[name=dose_taken]") is None
    assert soup.select_one("details.check-in") is None
    assert soup.select_one("input[name=tolerability]") is None
    # From the first dose on, both are asked.
    tomorrow = parse(browser.get(f"/entries/{today + timedelta(days=1)}"))
    assert tomorrow.select_one("input[name=dose_taken]") is not None
    assert tomorrow.select_one("details.check-in") is not None


def test_one_tap_says_no_side_effects_without_script(browser: Browser, session: Session) -> None:
    form = answer(blank_form(browser), pain=40) | {"no_side_effects": "1", "headache": "2"}

    assert browser.post(URL, form).status_code == 303

    [entry] = stored(session)
    effects = {key: entry.side_effects.get(key) for key in SIDE_EFFECT_KEYS}
    # What was rated stays; everything else is none, never left unanswered.
    assert effects == {key: 0 for key in SIDE_EFFECT_KEYS} | {"headache": 2}
    soup = parse(browser.get(URL))
    assert not one(soup, "input[name=no_side_effects]").has_attr("checked")
    assert one(soup, "details.side-effects").has_attr("open")

    form = blank_form(browser) | {"no_side_effects": "1", "headache": ""}
    assert browser.post(URL, form).status_code == 303
    soup = parse(browser.get(URL))
    assert one(soup, "input[name=no_side_effects]").has_attr("checked")
    assert not one(soup, "details.side-effects").has_attr("open")


def test_the_check_in_answers_are_saved(browser: Browser, session: Session, user: User) -> None:
    form = answer(blank_form(browser), tolerability=85) | {"pgic": "3"}

    assert browser.post(URL, form).status_code == 303
    [entry] = stored(session)
    assert (entry.tolerability, entry.pgic) == (85, 3)


def test_deleting_a_day_keeps_its_last_version(
    browser: Browser, session: Session, user: User
) -> None:
    make_entry(session, user=user, day=DAY, pain=40)
    form = one(parse(browser.get(URL)), f"form[action='{URL}/delete']")
    folded = form.find_parent("details")
    assert folded is not None and not folded.has_attr("open"), "two taps, not one"

    response = browser.post(f"{URL}/delete")

    assert response.status_code == 303
    assert response.headers["location"].startswith("/history?month=2026-03")
    assert stored(session) == []
    assert session.exec(select(EntryRevision)).one().reason == "deleted"
    assert browser.post(f"{URL}/delete").status_code == 404


@pytest.mark.parametrize(
    ("field", "typed"),
    [
        ("pain", "1_0"),
        ("pain", "٤٠"),
        ("dose_mg", "1_5"),
        ("dose_mg", "nan"),
        ("dose_taken", "maybe"),
    ],
)
def test_only_plain_numbers_and_the_offered_choices_are_saved(
    browser: Browser, session: Session, field: str, typed: str
) -> None:
    """Python would read "1_0" as 10 and "٤٠" as 40; a patient typed neither as a number."""
    form = answer(blank_form(browser), fatigue=20)
    form[field] = typed
    form.pop(f"{field}_unanswered", None)

    response = browser.post(URL, form)

    assert response.status_code == 422
    assert error_beside(parse(response), field)
    assert stored(session) == []


def test_without_script_a_slider_moved_under_a_ticked_box_is_asked_about(
    browser: Browser, session: Session
) -> None:
    """Without JavaScript nothing unticks "Not answered" when a slider moves: the moved pain
    was dropped without a word. Now the form asks, and sent again as it stands, it leaves
    pain unanswered."""
    form = blank_form(browser)
    assert form["no_script"] == "1"  # the <noscript> field, as a browser without script sends it
    form["pain"] = "70"  # moved, box still ticked
    form["notes"] = "Slept badly"

    asked = browser.post(URL, form)

    assert asked.status_code == 422
    soup = parse(asked)
    assert "You moved this slider to 70" in error_beside(soup, "pain")
    assert one(soup, "input[name=pain]").get("value") == "70"
    assert one(soup, "input[name=pain_unanswered]").has_attr("checked")
    assert one(soup, "textarea[name=notes]").get_text() == "Slept badly"
    assert stored(session) == []

    again = browser.post(URL, form_data(one(soup, "form#entry-form")))

    assert again.status_code == 303
    [entry] = stored(session)
    assert entry.ratings.get("pain") is None and entry.notes == "Slept badly"


def test_with_script_a_slider_put_back_to_not_answered_is_not_asked_about(
    browser: Browser, session: Session
) -> None:
    form = blank_form(browser)
    form.pop("no_script")  # a browser with script never sends it
    form["pain"] = "70"
    form["notes"] = "Changed my mind about pain"

    assert browser.post(URL, form).status_code == 303
    [entry] = stored(session)
    assert entry.ratings.get("pain") is None
