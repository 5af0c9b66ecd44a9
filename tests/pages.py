"""Reading pages the way a test should: parsed HTML, never string matching on markup."""

from __future__ import annotations

from typing import Any

from bs4 import BeautifulSoup, Tag


def parse(response: Any) -> BeautifulSoup:
    """The response body as a document."""
    return BeautifulSoup(response.text, "html.parser")


def one(soup: BeautifulSoup | Tag, selector: str) -> Tag:
    """The single element matching `selector`; fails the test when there is none."""
    found = soup.select_one(selector)
    assert found is not None, f"no element matches {selector!r}"
    return found


def text_of(element: Tag) -> str:
    """The element's visible text with whitespace collapsed."""
    return " ".join(element.get_text(" ").split())


def error_beside(soup: BeautifulSoup, field: str) -> str:
    """The error message shown with a form field (the `<field>-error` paragraph)."""
    return text_of(one(soup, f"#{field}-error"))


def field_box(soup: BeautifulSoup, field: str) -> Tag:
    """The fieldset, `div.field` or section that holds the control named `field`."""
    control = one(soup, f"[name={field}]")
    for parent in control.parents:
        classes = parent.get("class") or []
        if parent.name in ("fieldset", "section") or (parent.name == "div" and "field" in classes):
            return parent
    raise AssertionError(f"{field} has no field wrapper")
