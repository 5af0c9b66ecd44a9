"""Render the app icons (192, 512 and a maskable 512) from static/icons/icon.svg.

Uses the Chromium the browser tests use, so no image library is needed:
    .venv/bin/python scripts/make_icons.py
"""

from __future__ import annotations

import base64
from pathlib import Path

from playwright.sync_api import sync_playwright

ICONS = Path(__file__).resolve().parent.parent / "static" / "icons"
SOURCE = ICONS / "icon.svg"


def _page(svg: str, size: int, *, maskable: bool) -> str:
    data = base64.b64encode(svg.encode()).decode()
    # A maskable icon must keep its content inside the central 80% circle and fill the square.
    inner = int(size * 0.72) if maskable else size
    return (
        f"<html><body style='margin:0;width:{size}px;height:{size}px;background:"
        f"{'#1d4e6b' if maskable else 'transparent'};display:grid;place-items:center'>"
        f"<img src='data:image/svg+xml;base64,{data}' width='{inner}' height='{inner}'>"
        "</body></html>"
    )


def main() -> None:
    svg = SOURCE.read_text()
    targets = [("icon-192.png", 192, False), ("icon-512.png", 512, False)]
    targets.append(("icon-maskable-512.png", 512, True))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
        )
        for name, size, maskable in targets:
            page = browser.new_page(viewport={"width": size, "height": size})
            page.set_content(_page(svg, size, maskable=maskable))
            page.screenshot(path=str(ICONS / name), omit_background=not maskable)
            page.close()
            print(f"wrote {ICONS / name}")
        browser.close()


if __name__ == "__main__":
    main()
