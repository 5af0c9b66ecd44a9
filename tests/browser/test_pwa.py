"""SPEC §7 in a real Chromium: installable, opens offline, saves offline, syncs exactly once."""

from __future__ import annotations

import sqlite3
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, Playwright, expect

from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    NO_PAGE_CACHE,
    LiveServer,
    sign_in,
    wait_for_worker,
    wait_until,
)

pytestmark = pytest.mark.browser


def _rows(server: LiveServer, sql: str, *params: object) -> list[tuple[object, ...]]:
    path = server.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        return connection.execute(sql, params).fetchall()


def _wait_for_rows(
    server: LiveServer, sql: str, expected: list[tuple[object, ...]], timeout: float = 15.0
) -> None:
    """Until the server's database answers `sql` with `expected` (a flush runs on its own)."""
    deadline = time.monotonic() + timeout
    while (found := _rows(server, sql)) != expected:
        assert time.monotonic() < deadline, f"{sql} still gives {found}, not {expected}"
        time.sleep(0.1)


def _signed_in_with_worker(context: BrowserContext, server: LiveServer, email: str) -> Page:
    server.register(email)
    page = context.new_page()
    sign_in(page, server, email)
    wait_for_worker(page)
    # Pages opened while the worker controls the tab are kept for offline use.
    page.goto(f"{server.url}/today")
    page.goto(f"{server.url}/history")
    page.goto(f"{server.url}/today")
    return page


def _answer(page: Page, key: str, value: int) -> None:
    """Move an item's slider the way a keyboard user does, to an exact value."""
    slider = page.locator(f"#{key}")
    slider.focus()
    slider.press("Home")
    for _ in range(value):
        slider.press("ArrowRight")
    expect(page.locator(f"#{key}-value")).to_have_text(str(value))


def test_the_app_is_installable_with_no_errors(
    playwright_instance: Playwright, live_server: LiveServer, tmp_path: Path
) -> None:
    # Chromium never offers installation in an incognito profile: use a real one.
    context = playwright_instance.chromium.launch_persistent_context(
        tmp_path / "profile", executable_path=CHROMIUM, args=CHROMIUM_ARGS
    )
    try:
        _check_installable(context, live_server)
    finally:
        context.close()


def _check_installable(context: BrowserContext, live_server: LiveServer) -> None:
    page = _signed_in_with_worker(context, live_server, "install@example.org")
    cdp = context.new_cdp_session(page)
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert errors == []
    manifest = page.evaluate("fetch('/manifest.webmanifest').then(r => r.json())")
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == "/today"
    sizes = {(icon["sizes"], icon.get("purpose")) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes


def test_worker_activates_and_pages_open_offline(context: BrowserContext, live_server: LiveServer):
    page = _signed_in_with_worker(context, live_server, "offline@example.org")
    state = page.evaluate("navigator.serviceWorker.controller.state")
    assert state == "activated"
    live_server.stop()  # the network is gone: every request to the server is refused
    page.reload()
    expect(page.locator("h1")).to_contain_text("Today")
    expect(page.locator("#entry-form")).to_be_visible()
    page.goto(f"{live_server.url}/history")
    expect(page.locator("h1")).to_have_text("History")
    page.goto(f"{live_server.url}/never-opened-before")
    expect(page.locator("h1")).to_have_text("You are offline")


def test_a_day_saved_offline_syncs_exactly_once(context: BrowserContext, live_server: LiveServer):
    email = "sync@example.org"
    page = _signed_in_with_worker(context, live_server, email)
    live_server.stop()
    page.reload()
    _answer(page, "pain", 37)
    page.click("#entry-form button[type=submit]")
    expect(page.locator("[data-save-status]")).to_have_text(
        "Saved on this phone — will sync when you're online."
    )
    expect(page.locator("[data-outbox-badge]")).to_have_text("1 day waiting to sync")

    live_server.start()
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("[data-outbox-badge]")).to_be_hidden(timeout=10000)

    with live_server.api(email) as api:
        days = api.get("/api/v1/entries").json()
    assert len(days) == 1
    assert days[0]["pain"] == 37
    assert days[0]["source"] == "sync"

    # The same outbox record sent again, after a reload and from a second tab: still one day.
    record = _rows(live_server, "SELECT client_id, client_edited_at, day FROM diary_entry")[0]
    client_id, edited_at, day = record
    payload = {
        "entries": [
            {
                "date": day,
                "pain": 37,
                "client_id": client_id,
                "client_edited_at": str(edited_at).replace(" ", "T"),
            }
        ]
    }
    page.reload()
    second_tab = context.new_page()
    second_tab.goto(f"{live_server.url}/today")
    script = """payload => fetch('/sync', {method: 'POST', headers: {'Content-Type':
        'application/json', 'X-CSRF-Token': document.body.dataset.csrf},
        body: JSON.stringify(payload)}).then(r => r.json())"""
    first = page.evaluate(script, payload)
    second = second_tab.evaluate(script, payload)
    assert first["results"][0]["status"] == "unchanged"
    assert second["results"][0]["status"] == "unchanged"
    assert _rows(live_server, "SELECT count(*) FROM diary_entry") == [(1,)]
    assert _rows(live_server, "SELECT count(*) FROM entry_revision") == [(0,)]


def test_outbox_flushes_from_a_reloaded_page_and_two_tabs_once(
    context: BrowserContext, live_server: LiveServer
):
    page = _signed_in_with_worker(context, live_server, "tabs@example.org")
    live_server.stop()
    page.reload()
    _answer(page, "pain", 12)
    page.click("#entry-form button[type=submit]")
    expect(page.locator("[data-outbox-badge]")).to_have_text("1 day waiting to sync")
    live_server.start()
    # Two tabs load at once; each flushes the outbox on load.
    other = context.new_page()
    other.goto(f"{live_server.url}/today")
    page.reload()
    _wait_for_rows(
        live_server,
        "SELECT count(*), min(json_extract(ratings, '$.pain')) FROM diary_entry",
        [(1, 12)],
    )
    # Both tabs are done with it, and it is still one day.
    wait_until(page, "LdnOutbox.all().then(records => records.length === 0)")
    wait_until(other, "LdnOutbox.all().then(records => records.length === 0)")
    expect(page.locator("[data-outbox-badge]")).to_be_hidden()
    assert _rows(
        live_server, "SELECT count(*), min(json_extract(ratings, '$.pain')) FROM diary_entry"
    ) == [(1, 12)]


def test_two_tabs_saving_one_day_offline_lose_neither(
    context: BrowserContext, live_server: LiveServer
) -> None:
    """Each tab's form is its own record: the later save is the day's version and the earlier
    is in its history, as when both are saved online. It used to be one record per day, so
    the second tab's form silently replaced the first's, which then said it had synced."""
    page = _signed_in_with_worker(context, live_server, "twotabs@example.org")
    other = context.new_page()
    other.goto(f"{live_server.url}/today")
    live_server.stop()
    page.reload()
    other.reload()
    _answer(page, "pain", 20)
    page.click("#entry-form button[type=submit]")
    expect(page.locator("[data-save-status]")).to_have_text(
        "Saved on this phone — will sync when you're online."
    )
    _answer(other, "fatigue", 10)
    other.click("#entry-form button[type=submit]")
    expect(other.locator("[data-save-status]")).to_contain_text("Saved on this phone")
    expect(other.locator("[data-outbox-badge]")).to_have_text("1 day waiting to sync")
    assert len(page.evaluate("LdnOutbox.all()")) == 2

    live_server.start()
    page.evaluate("window.dispatchEvent(new Event('online'))")
    _wait_for_rows(
        live_server,
        "SELECT json_extract(ratings, '$.pain') IS NULL, json_extract(ratings, '$.fatigue') > 0"
        " FROM diary_entry",
        [(1, 1)],
    )
    _wait_for_rows(
        live_server, "SELECT json_extract(data, '$.ratings.pain') FROM entry_revision", [(20,)]
    )
    wait_until(page, "LdnOutbox.all().then(records => records.length === 0)")
    expect(page.locator("[data-outbox-badge]")).to_be_hidden()


def test_a_tab_filled_from_another_tabs_save_never_drops_that_tabs_later_save(
    context: BrowserContext, live_server: LiveServer
) -> None:
    """Tab B opens on tab A's waiting save and builds on it; A saves again before B does.
    B's save replaces only what it was filled from, and only while that is unchanged: A's
    later save is still sent, and ends up in the day's history."""
    page = _signed_in_with_worker(context, live_server, "filled@example.org")
    other = context.new_page()
    other.goto(f"{live_server.url}/today")
    live_server.stop()
    page.reload()
    _answer(page, "pain", 20)
    page.click("#entry-form button[type=submit]")
    expect(page.locator("[data-save-status]")).to_contain_text("Saved on this phone")
    other.reload()  # filled from tab A's save
    expect(other.locator("#pain-value")).to_have_text("20")
    _answer(page, "pain", 25)
    page.click("#entry-form button[type=submit]")
    _answer(other, "fatigue", 10)
    other.click("#entry-form button[type=submit]")
    expect(other.locator("[data-save-status]")).to_contain_text("Saved on this phone")
    wait_until(page, "LdnOutbox.all().then(records => records.length === 2)")
    pains = sorted(page.evaluate("LdnOutbox.all().then(rs => rs.map(r => r.entry.ratings.pain))"))
    assert pains == [20, 25]

    live_server.start()
    page.evaluate("window.dispatchEvent(new Event('online'))")
    _wait_for_rows(
        live_server,
        "SELECT json_extract(ratings, '$.pain'), json_extract(ratings, '$.fatigue') > 0"
        " FROM diary_entry",
        [(20, 1)],
    )
    _wait_for_rows(
        live_server, "SELECT json_extract(data, '$.ratings.pain') FROM entry_revision", [(25,)]
    )


def test_a_day_kept_by_the_earlier_outbox_is_still_sent(
    context: BrowserContext, live_server: LiveServer
) -> None:
    """A phone that kept a day in the outbox's first version (one record per day) before the
    app changed: the record moves to the new store and is sent."""
    email = "upgrade@example.org"
    live_server.register(email)
    [(user_id,)] = _rows(live_server, 'SELECT id FROM "user" WHERE email = ?', email)
    account = str(user_id)
    day = (date.today() - timedelta(days=1)).isoformat()
    page = context.new_page()
    page.goto(f"{live_server.url}/login")  # no account yet: nothing opens the outbox
    page.evaluate(
        """([account, day]) => new Promise((resolve, reject) => {
            const request = indexedDB.open('ldn-diary', 1);
            request.onupgradeneeded = () =>
                request.result.createObjectStore('outbox', {keyPath: ['account', 'date']});
            request.onerror = () => reject(request.error);
            request.onsuccess = () => {
                const db = request.result;
                const transaction = db.transaction('outbox', 'readwrite');
                transaction.objectStore('outbox').put({account, date: day, csrf: '',
                    entry: {date: day, ratings: {pain: 44}, side_effects: {},
                            client_id: 'old-phone', client_edited_at: new Date().toISOString()}});
                transaction.oncomplete = () => { db.close(); resolve(true); };
                transaction.onerror = () => reject(transaction.error);
            };
        })""",
        [account, day],
    )
    sign_in(page, live_server, email)
    _wait_for_rows(
        live_server,
        "SELECT json_extract(ratings, '$.pain'), source FROM diary_entry",
        [(44, "sync")],
    )
    wait_until(page, "LdnOutbox.all().then(records => records.length === 0)")


def test_waiting_days_are_retried_every_15_seconds_without_an_online_event(
    context: BrowserContext, live_server: LiveServer
) -> None:
    # Phones do not always announce a returning network: the open page keeps trying by itself.
    context.clock.install()
    page = _signed_in_with_worker(context, live_server, "retry@example.org")
    live_server.stop()
    page.reload()
    _answer(page, "pain", 55)
    page.click("#entry-form button[type=submit]")
    expect(page.locator("[data-outbox-badge]")).to_have_text("1 day waiting to sync")
    live_server.start()
    page.wait_for_timeout(1000)  # nothing announces the network: the day still waits
    expect(page.locator("[data-outbox-badge]")).to_be_visible()
    assert _rows(live_server, "SELECT count(*) FROM diary_entry") == [(0,)]
    page.clock.fast_forward("00:16")
    expect(page.locator("[data-outbox-badge]")).to_be_hidden(timeout=10000)
    assert _rows(
        live_server, "SELECT json_extract(ratings, '$.pain'), source FROM diary_entry"
    ) == [(55, "sync")]


def test_two_devices_editing_one_day_keep_the_later_edit(chromium, live_server: LiveServer) -> None:
    email = "devices@example.org"
    live_server.register(email)
    phone = chromium.new_context(viewport={"width": 360, "height": 740})
    tablet = chromium.new_context(viewport={"width": 800, "height": 1000})
    try:
        pages = []
        for device in (phone, tablet):
            page = device.new_page()
            sign_in(page, live_server, email)
            wait_for_worker(page)
            page.goto(f"{live_server.url}/today")
            pages.append(page)
        phone_page, tablet_page = pages
        live_server.stop()
        for page in pages:
            page.reload()
        _answer(phone_page, "pain", 30)
        phone_page.click("#entry-form button[type=submit]")  # edited first
        expect(phone_page.locator("[data-outbox-badge]")).to_be_visible()
        tablet_page.wait_for_timeout(50)
        _answer(tablet_page, "pain", 70)
        tablet_page.click("#entry-form button[type=submit]")  # edited later
        expect(tablet_page.locator("[data-outbox-badge]")).to_be_visible()
        live_server.start()
        # The later edit reaches the server first; the earlier one arrives afterwards.
        tablet_page.evaluate("window.dispatchEvent(new Event('online'))")
        expect(tablet_page.locator("[data-outbox-badge]")).to_be_hidden(timeout=10000)
        phone_page.evaluate("window.dispatchEvent(new Event('online'))")
        expect(phone_page.locator("[data-outbox-badge]")).to_be_hidden(timeout=10000)
    finally:
        phone.close()
        tablet.close()
    assert _rows(
        live_server, "SELECT json_extract(ratings, '$.pain'), source FROM diary_entry"
    ) == [(70, "sync")]
    revisions = _rows(live_server, "SELECT reason, data FROM entry_revision")
    assert len(revisions) == 1
    assert revisions[0][0] == "superseded"
    assert '"pain": 30' in str(revisions[0][1])


def _cached_urls(page: Page) -> list[str]:
    return page.evaluate(
        """caches.keys().then(names => Promise.all(names.map(n => caches.open(n)
            .then(c => c.keys())))).then(lists => lists.flat().map(r => r.url))"""
    )


def test_signing_out_clears_every_cached_page_and_keeps_the_shell(
    context: BrowserContext, live_server: LiveServer
):
    page = _signed_in_with_worker(context, live_server, "leave@example.org")
    assert any(url.endswith("/today") for url in _cached_urls(page))
    page.click("text=Sign out")
    page.wait_for_url("**/login?signed_out=1")
    wait_until(page, NO_PAGE_CACHE)
    left = _cached_urls(page)
    assert not [url for url in left if "/static/" not in url and not url.endswith("/offline")]
    assert any("/static/js/app.js" in url for url in left)  # offline saving still works


def test_after_signing_out_and_in_again_a_day_still_saves_offline(
    context: BrowserContext, live_server: LiveServer
):
    email = "again@example.org"
    page = _signed_in_with_worker(context, live_server, email)
    page.click("text=Sign out")
    page.wait_for_url("**/login?signed_out=1")
    sign_in(page, live_server, email)
    page.goto(f"{live_server.url}/today")
    live_server.stop()
    page.reload()
    _answer(page, "pain", 21)
    page.click("#entry-form button[type=submit]")
    expect(page.locator("[data-outbox-badge]")).to_have_text("1 day waiting to sync")
    live_server.start()
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("[data-outbox-badge]")).to_be_hidden(timeout=10000)
    assert _rows(live_server, "SELECT json_extract(ratings, '$.pain') FROM diary_entry") == [(21,)]


def test_the_sign_in_page_drops_cached_pages_when_signed_out_elsewhere(
    context: BrowserContext, live_server: LiveServer
):
    page = _signed_in_with_worker(context, live_server, "lost-phone@example.org")
    with live_server.api("lost-phone@example.org") as api:
        assert api.post("/api/v1/account/logout-everywhere").status_code == 204
    page.goto(f"{live_server.url}/today")  # the session is gone: on to the sign-in page
    assert "/login" in page.url
    wait_until(page, NO_PAGE_CACHE)


def test_a_today_page_kept_from_yesterday_saves_onto_today(
    context: BrowserContext, live_server: LiveServer
):
    email = "stale@example.org"
    page = _signed_in_with_worker(context, live_server, email)
    kept_day = page.locator("#entry-form").get_attribute("data-day")
    assert kept_day is not None
    tomorrow = date.fromisoformat(kept_day) + timedelta(days=1)
    live_server.stop()
    # The phone wakes up the next morning with no network: /today comes from the cache.
    context.clock.install(time=datetime(tomorrow.year, tomorrow.month, tomorrow.day, 9, 0))
    page.reload()
    expect(page.locator("#entry-form")).to_have_attribute("data-day", tomorrow.isoformat())
    expect(page.locator("h1")).to_contain_text(f"Today, {tomorrow:%A} {tomorrow.day} {tomorrow:%B}")
    _answer(page, "pain", 44)
    page.click("#entry-form button[type=submit]")
    expect(page.locator("[data-outbox-badge]")).to_have_text("1 day waiting to sync")
    records = page.evaluate("LdnOutbox.all()")
    assert [record["date"] for record in records] == [tomorrow.isoformat()]


def test_a_second_offline_edit_of_a_day_builds_on_the_first(
    context: BrowserContext, live_server: LiveServer
):
    page = _signed_in_with_worker(context, live_server, "twice@example.org")
    live_server.stop()
    page.reload()
    _answer(page, "pain", 33)
    page.click("#entry-form button[type=submit]")
    expect(page.locator("[data-outbox-badge]")).to_have_text("1 day waiting to sync")
    page.reload()  # still offline: the cached page knows nothing of the first edit
    expect(page.locator("#pain-value")).to_have_text("33")
    page.fill("#notes", "Slept badly")
    page.click("#entry-form button[type=submit]")
    expect(page.locator("[data-save-status]")).to_have_text(
        "Saved on this phone — will sync when you're online."
    )
    live_server.start()
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("[data-outbox-badge]")).to_be_hidden(timeout=10000)
    assert _rows(live_server, "SELECT json_extract(ratings, '$.pain'), notes FROM diary_entry") == [
        (33, "Slept badly")
    ]


def test_a_save_the_server_refuses_is_kept_on_the_phone(
    context: BrowserContext, live_server: LiveServer
):
    page = _signed_in_with_worker(context, live_server, "refused@example.org")
    # A page left open too long: its CSRF token no longer matches (403).
    page.evaluate(
        """document.querySelector('#entry-form [name=csrf_token]').value = 'stale';
        document.body.setAttribute('hx-headers', '{"X-CSRF-Token": "stale"}')"""
    )
    _answer(page, "pain", 61)
    page.click("#entry-form button[type=submit]")
    expect(page.locator("[data-save-status]")).to_have_text(
        "Not saved on the server yet — kept on this phone, and sent again shortly."
    )
    expect(page.locator("[data-outbox-badge]")).to_have_text("1 day waiting to sync")
    page.reload()  # a fresh page, a fresh token: the day goes through
    _wait_for_rows(live_server, "SELECT json_extract(ratings, '$.pain') FROM diary_entry", [(61,)])


def test_a_day_saved_as_the_session_ends_survives_signing_in_again(
    context: BrowserContext, live_server: LiveServer
):
    email = "expired@example.org"
    page = _signed_in_with_worker(context, live_server, email)
    with live_server.api(email) as api:
        assert api.post("/api/v1/account/logout-everywhere").status_code == 204
    _answer(page, "pain", 72)
    page.click("#entry-form button[type=submit]")  # the answer sends the page to sign in
    page.wait_for_url("**/login")
    sign_in(page, live_server, email)
    _wait_for_rows(live_server, "SELECT json_extract(ratings, '$.pain') FROM diary_entry", [(72,)])


def test_a_day_the_server_refuses_can_be_opened_from_the_badge_and_put_right(
    context: BrowserContext, live_server: LiveServer
):
    page = _signed_in_with_worker(context, live_server, "fix@example.org")
    day = (date.today() - timedelta(days=3)).isoformat()
    # A day kept on the phone that the server will not take (notes over 2000 characters).
    page.evaluate(
        """day => LdnOutbox.put({account: document.body.dataset.account, date: day,
            csrf: document.body.dataset.csrf, entry: {date: day, pain: 40, side_effects: {},
            notes: 'n'.repeat(2001), client_id: 'phone',
            client_edited_at: new Date().toISOString()}})
            .then(() => LdnOutbox.flush({account: document.body.dataset.account,
            csrfToken: document.body.dataset.csrf}))""",
        day,
    )
    page.reload()
    badge = page.locator("[data-outbox-badge]")
    expect(badge).to_have_text("1 day waiting to sync (1 could not be saved: tap to fix)")
    badge.click()
    page.wait_for_url(f"**/entries/{day}")
    expect(page.locator("[data-save-status]")).to_contain_text("could not be saved")
    expect(page.locator("#pain-value")).to_have_text("40")
    page.fill("#notes", "Shorter now")
    page.click("#entry-form button[type=submit]")
    expect(page.locator("[data-save-status]")).to_contain_text("Saved")
    expect(badge).to_be_hidden()
    assert _rows(live_server, "SELECT json_extract(ratings, '$.pain'), notes FROM diary_entry") == [
        (40, "Shorter now")
    ]


def test_pages_make_no_request_to_another_origin(context: BrowserContext, live_server: LiveServer):
    origins: set[str] = set()
    context.on("request", lambda request: origins.add(request.url.split("/")[2]))
    page = _signed_in_with_worker(context, live_server, "private@example.org")
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    for path in (
        "/today",
        "/history",
        "/doses",
        "/trends",
        "/compare",
        f"/entries/{yesterday}",
        "/docs",
    ):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
    assert origins == {f"127.0.0.1:{live_server.port}"}
