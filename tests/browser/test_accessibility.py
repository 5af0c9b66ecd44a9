"""An axe-core scan of the main pages (axe 4.14.1, vendored for the tests only)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Literal

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import LiveServer, sign_in

pytestmark = pytest.mark.browser
AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"


def _serious_violations(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa', 'best-practice']})"
    )
    assert result["passes"], "axe did not run"
    return [
        f"{violation['id']}: {violation['help']} ({len(violation['nodes'])} nodes)"
        for violation in result["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def _seed(server: LiveServer, email: str) -> None:
    """Three weeks of baseline and two of a dose, so charts, links and tables are drawn."""
    first = date.today() - timedelta(days=34)
    with server.api(email) as api:
        api.post("/api/v1/dose-steps", json={"start_date": first.isoformat(), "dose_mg": 0})
        start = (first + timedelta(days=21)).isoformat()
        api.post("/api/v1/dose-steps", json={"start_date": start, "dose_mg": 1.5})
        entries = [
            {
                "date": (first + timedelta(days=offset)).isoformat(),
                "pain": 60 - offset,
                "fatigue": 50,
                "side_effects": {"headache": offset % 4},
            }
            for offset in range(0, 35, 1)
            if offset % 5
        ]
        assert api.post("/api/v1/entries/batch", json={"entries": entries}).status_code == 200


@pytest.mark.parametrize(("width", "scheme"), [(360, "light"), (1024, "light"), (360, "dark")])
def test_main_pages_have_no_serious_accessibility_violations(
    chromium: Browser, live_server: LiveServer, width: int, scheme: Literal["light", "dark"]
) -> None:
    """Dark mode (for logging at bedtime) too: its contrast is checked like the light one's."""
    # axe is injected as an inline script, which the app's CSP rightly refuses: bypass it here.
    context = chromium.new_context(
        viewport={"width": width, "height": 800}, bypass_csp=True, color_scheme=scheme
    )
    try:
        page = context.new_page()
        found: dict[str, list[str]] = {}
        for path in ("/register", "/login"):
            page.goto(f"{live_server.url}{path}")
            found[path] = _serious_violations(page)
        live_server.register("axe@example.org")
        _seed(live_server, "axe@example.org")
        sign_in(page, live_server, "axe@example.org")
        yesterday = (date.today() - timedelta(days=1)).isoformat()
        for path in (
            "/today",
            f"/entries/{yesterday}",
            "/history",
            "/doses",
            "/trends",
            "/compare",
            "/report",
            "/offline",
        ):
            page.goto(f"{live_server.url}{path}")
            found[path] = _serious_violations(page)
    finally:
        context.close()
    assert {path: issues for path, issues in found.items() if issues} == {}
