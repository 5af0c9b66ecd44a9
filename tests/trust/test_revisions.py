"""Every change to a day keeps the previous version; the day page lists and restores them."""

from __future__ import annotations

from datetime import datetime

from bs4 import Tag
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import DiaryEntry, EntryRevision, User
from tests.conftest import Browser
from tests.pages import form_data, one, parse, text_of

DAY = "2026-03-10"


def test_revisions_api_lists_earlier_versions_newest_first(api: TestClient) -> None:
    api.put(f"/api/v1/entries/{DAY}", json={"pain": 10})
    api.put(f"/api/v1/entries/{DAY}", json={"pain": 20, "notes": "second"})
    api.put(f"/api/v1/entries/{DAY}", json={"pain": 30})

    response = api.get(f"/api/v1/entries/{DAY}/revisions")

    assert response.status_code == 200
    versions = response.json()
    assert [version["data"]["pain"] for version in versions] == [20, 10]
    newest = versions[0]
    assert set(newest) == {"id", "date", "data", "source", "saved_at", "replaced_at", "reason"}
    assert (newest["date"], newest["source"], newest["reason"]) == (DAY, "api", "edited")
    assert newest["data"]["notes"] == "second"
    saved = datetime.fromisoformat(newest["saved_at"])
    replaced = datetime.fromisoformat(newest["replaced_at"])
    assert saved.utcoffset() is not None and saved <= replaced


def test_a_deleted_day_keeps_its_history(api: TestClient) -> None:
    api.put(f"/api/v1/entries/{DAY}", json={"pain": 10})
    api.delete(f"/api/v1/entries/{DAY}")

    versions = api.get(f"/api/v1/entries/{DAY}/revisions").json()

    assert [(version["reason"], version["data"]["pain"]) for version in versions] == [
        ("deleted", 10)
    ]


def test_a_day_without_history_is_404_and_so_is_another_patients(
    api: TestClient, other_api: TestClient
) -> None:
    api.put(f"/api/v1/entries/{DAY}", json={"pain": 10})
    api.put(f"/api/v1/entries/{DAY}", json={"pain": 20})

    assert api.get("/api/v1/entries/2026-03-11/revisions").status_code == 404
    theirs = other_api.get(f"/api/v1/entries/{DAY}/revisions")
    assert theirs.status_code == 404
    assert "20" not in theirs.text and "10" not in theirs.text


def test_a_day_with_no_earlier_version_answers_an_empty_list(api: TestClient) -> None:
    api.put(f"/api/v1/entries/{DAY}", json={"pain": 10})

    assert api.get(f"/api/v1/entries/{DAY}/revisions").json() == []


def save_on_the_web(browser: Browser, **answers: str) -> None:
    form = form_data(one(parse(browser.get(f"/entries/{DAY}")), "#entry-form"))
    form.update(answers)
    for key in answers:
        form.pop(f"{key}_unanswered", None)
    response = browser.post(f"/entries/{DAY}", form)
    assert response.status_code == 303, response.text


def answers_shown(version: Tag) -> dict[str, str]:
    return {
        text_of(term): text_of(one(term.parent, "dd"))  # type: ignore[arg-type]
        for term in version.select("dt")
    }


def test_the_day_page_shows_its_history_in_plain_words(
    browser: Browser, api: TestClient, session: Session, user: User
) -> None:
    api.put(f"/api/v1/entries/{DAY}", json={"pain": 10, "side_effects": {"nausea": 1}})
    save_on_the_web(browser, pain="35")
    save_on_the_web(browser, pain="60")

    soup = parse(browser.get(f"/entries/{DAY}"))

    section = one(soup, "section.day-history")
    assert text_of(one(section, "h2")) == "History of this day"
    versions = section.select("li[data-revision]")
    assert len(versions) == 2
    assert "saved on the web" in text_of(versions[0])
    assert "Replaced by a later edit" in text_of(versions[0])
    assert answers_shown(versions[0])["Pain"] == "35"
    assert "from the app" in text_of(versions[1])
    assert answers_shown(versions[1]) == {"Pain": "10", "Nausea": "mild"}
    for version in versions:
        button = one(version, "form button")
        assert "Restore" in text_of(button)


def test_a_day_without_earlier_versions_has_no_history_section(
    browser: Browser, api: TestClient
) -> None:
    api.put(f"/api/v1/entries/{DAY}", json={"pain": 10})

    soup = parse(browser.get(f"/entries/{DAY}"))

    assert soup.select_one("section.day-history") is None


def test_restoring_brings_a_version_back_and_keeps_the_current_one(
    browser: Browser, api: TestClient, session: Session
) -> None:
    api.put(f"/api/v1/entries/{DAY}", json={"pain": 10, "notes": "the first"})
    api.put(f"/api/v1/entries/{DAY}", json={"pain": 90})
    [first] = api.get(f"/api/v1/entries/{DAY}/revisions").json()
    page = parse(browser.get(f"/entries/{DAY}"))
    form = one(page, f"li[data-revision='{first['id']}'] form")

    response = browser.post(str(form["action"]), form_data(form))

    assert response.status_code == 303
    assert response.headers["location"] == f"/entries/{DAY}?restored=1"
    current = api.get(f"/api/v1/entries/{DAY}").json()
    assert (current["pain"], current["notes"], current["source"]) == (10, "the first", "web")
    versions = api.get(f"/api/v1/entries/{DAY}/revisions").json()
    assert [(version["data"]["pain"], version["reason"]) for version in versions] == [
        (90, "restored"),
        (10, "edited"),
    ]
    shown = parse(browser.get(response.headers["location"]))
    assert "earlier version is back" in text_of(one(shown, "section.day-history"))


def test_a_deleted_day_can_be_restored(browser: Browser, api: TestClient) -> None:
    api.put(f"/api/v1/entries/{DAY}", json={"pain": 10})
    api.delete(f"/api/v1/entries/{DAY}")
    [deleted] = api.get(f"/api/v1/entries/{DAY}/revisions").json()

    response = browser.post(f"/entries/{DAY}/revisions/{deleted['id']}/restore")

    assert response.status_code == 303
    assert api.get(f"/api/v1/entries/{DAY}").json()["pain"] == 10


def test_another_patients_version_cannot_be_restored(
    api: TestClient, other_browser: Browser, session: Session
) -> None:
    api.put(f"/api/v1/entries/{DAY}", json={"pain": 10})
    api.put(f"/api/v1/entries/{DAY}", json={"pain": 90})
    [first] = api.get(f"/api/v1/entries/{DAY}/revisions").json()

    response = other_browser.post(f"/entries/{DAY}/revisions/{first['id']}/restore")
    wrong_day = other_browser.post(f"/entries/2026-03-11/revisions/{first['id']}/restore")
    page = other_browser.get(f"/entries/{DAY}")

    assert response.status_code == 404
    assert wrong_day.status_code == 404
    assert parse(page).select_one("section.day-history") is None
    session.expire_all()
    entries = session.exec(select(DiaryEntry)).all()
    assert [(entry.ratings.get("pain"), entry.user_id) for entry in entries] == [
        (90, entries[0].user_id)
    ]
    assert len(session.exec(select(EntryRevision)).all()) == 1


def test_a_version_of_another_day_is_404(browser: Browser, api: TestClient) -> None:
    api.put(f"/api/v1/entries/{DAY}", json={"pain": 10})
    api.put(f"/api/v1/entries/{DAY}", json={"pain": 90})
    [first] = api.get(f"/api/v1/entries/{DAY}/revisions").json()

    assert browser.post(f"/entries/2026-03-09/revisions/{first['id']}/restore").status_code == 404
    assert browser.post(f"/entries/nonsense/revisions/{first['id']}/restore").status_code == 404


def test_restoring_needs_the_csrf_token(browser: Browser, api: TestClient) -> None:
    api.put(f"/api/v1/entries/{DAY}", json={"pain": 10})
    api.put(f"/api/v1/entries/{DAY}", json={"pain": 90})
    [first] = api.get(f"/api/v1/entries/{DAY}/revisions").json()

    response = browser.client.post(
        f"/entries/{DAY}/revisions/{first['id']}/restore", follow_redirects=False
    )

    assert response.status_code == 403
    assert api.get(f"/api/v1/entries/{DAY}").json()["pain"] == 90


def _many_versions(session: Session, user: User, day: str, count: int) -> None:
    """`count` kept versions of one day, written straight into the table (fast)."""
    from datetime import UTC, date, timedelta

    assert user.id is not None
    start = datetime(2026, 1, 1, tzinfo=UTC)
    session.add_all(
        EntryRevision(
            user_id=user.id,
            day=date.fromisoformat(day),
            data={"date": day, "pain": index % 101, "side_effects": {}},
            source="web",
            saved_at=start + timedelta(minutes=index),
            replaced_at=start + timedelta(minutes=index + 1),
            reason="edited",
        )
        for index in range(count)
    )
    session.commit()


def test_a_save_reads_a_bounded_part_of_a_long_history(
    app, api: TestClient, session: Session, user: User
) -> None:
    """A day edited thousands of times: each save reads at most the latest hundred versions,
    yet still recognises a replay of an old device edit by its key."""
    from sqlalchemy import event

    from app.services.entries import REVISIONS_SCANNED

    old_edit = {"pain": 5, "client_id": "phone-1", "client_edited_at": "2026-01-05T20:00:00Z"}
    assert api.put("/api/v1/entries/2026-01-05", json=old_edit).status_code == 201
    newer = {"pain": 6, "client_id": "phone-2", "client_edited_at": "2026-01-05T21:00:00Z"}
    assert api.put("/api/v1/entries/2026-01-05", json=newer).status_code == 200
    _many_versions(session, user, "2026-01-05", 3 * REVISIONS_SCANNED)

    history_reads: list[str] = []
    database = app.state.database
    # A save runs on the event loop's own engine when it can (app.db), else on the writer.
    loop = database.loop_engine.sync_engine if database.loop_engine is not None else None
    engines = [e for e in (database.writer, database.inline_writer, loop) if e is not None]

    def note_history_reads(conn, cursor, statement, parameters, context, executemany):
        if "FROM entry_revision" in statement:
            history_reads.append(statement)

    for engine in engines:
        event.listen(engine, "after_cursor_execute", note_history_reads)
    try:
        replay = api.put("/api/v1/entries/2026-01-05", json=old_edit)
        fresh = api.put(
            "/api/v1/entries/2026-01-05",
            json={"pain": 7, "client_id": "phone-1", "client_edited_at": "2026-01-05T22:00:00Z"},
        )
    finally:
        for engine in engines:
            event.remove(engine, "after_cursor_execute", note_history_reads)
    assert replay.status_code == 409  # known: the replayed edit stays in the history
    assert fresh.status_code == 200
    assert history_reads  # the history was consulted, each time a bounded part of it
    assert all(" LIMIT " in statement for statement in history_reads), history_reads


def test_the_day_page_and_the_api_page_through_a_long_history(
    api: TestClient, browser: Browser, session: Session, user: User
) -> None:
    assert api.put("/api/v1/entries/2026-01-06", json={"pain": 1}).status_code == 201
    _many_versions(session, user, "2026-01-06", 25)

    first = parse(browser.get("/entries/2026-01-06"))
    assert len(first.select("ol.versions > li")) == 10
    older = one(first, "a[href*='history_page=2']")
    second = parse(browser.get(str(older["href"])))
    assert len(second.select("ol.versions > li")) == 10
    third = parse(browser.get("/entries/2026-01-06?history_page=3"))
    assert len(third.select("ol.versions > li")) == 5
    assert not third.select("a[href*='history_page=4']")

    page = api.get("/api/v1/entries/2026-01-06/revisions?limit=20&offset=20").json()
    assert len(page) == 5
    newest = api.get("/api/v1/entries/2026-01-06/revisions?limit=1").json()
    assert newest[0]["data"]["pain"] == 24
    assert api.get("/api/v1/entries/2026-01-06/revisions?limit=9999").status_code == 422
