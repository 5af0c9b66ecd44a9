"""Reading pages the way a test should: parsed HTML, never string matching on markup."""

from __future__ import annotations

import httpx2
from bs4 import BeautifulSoup, Tag


def parse(response: httpx2.Response) -> BeautifulSoup:
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
        classes = parent.get_attribute_list("class")
        if parent.name in ("fieldset", "section") or (parent.name == "div" and "field" in classes):
            return parent
    raise AssertionError(f"{field} has no field wrapper")


def form_data(form: Tag) -> dict[str, str]:
    """What a browser would submit for `form` as the page shows it, before anyone types."""
    data: dict[str, str] = {}
    for control in form.find_all(["input", "textarea", "select"]):
        name = control.get("name")
        if not isinstance(name, str) or control.has_attr("disabled"):
            continue
        if control.name == "textarea":
            data[name] = control.get_text().removeprefix("\n")
        elif control.name == "select":
            options = control.find_all("option")
            chosen = next((option for option in options if option.has_attr("selected")), None)
            chosen = chosen or (options[0] if options else None)
            if chosen is not None:
                data[name] = str(chosen.get("value", chosen.get_text()))
        else:
            kind = str(control.get("type", "text")).lower()
            if kind in ("checkbox", "radio"):
                if control.has_attr("checked"):
                    data[name] = str(control.get("value", "on"))
            elif kind not in ("submit", "button", "image", "reset", "file"):
                data[name] = str(control.get("value", ""))
    return data
