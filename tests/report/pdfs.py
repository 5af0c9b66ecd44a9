"""Reading a PDF back the way a test should: its text, its pages, its fonts."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from pypdf import PdfReader
from pypdf.generic import DictionaryObject, IndirectObject


def read(pdf: bytes) -> PdfReader:
    assert pdf.startswith(b"%PDF-"), "not a PDF"
    return PdfReader(BytesIO(pdf))


def text_of(pdf: bytes) -> str:
    """Every page's text, whitespace collapsed to single spaces."""
    return " ".join(" ".join(page.extract_text().split()) for page in read(pdf).pages)


def _resolve(value: Any) -> Any:
    return value.get_object() if isinstance(value, IndirectObject) else value


def fonts(pdf: bytes) -> list[DictionaryObject]:
    """Every font dictionary the pages use, also inside form XObjects (the chart)."""
    found: dict[int, DictionaryObject] = {}
    seen: set[int] = set()

    def visit(resources: Any) -> None:
        resources = _resolve(resources)
        if not isinstance(resources, DictionaryObject) or id(resources) in seen:
            return
        seen.add(id(resources))
        for font in _resolve(resources.get("/Font", DictionaryObject())).values():
            font = _resolve(font)
            found[id(font)] = font
        for xobject in _resolve(resources.get("/XObject", DictionaryObject())).values():
            xobject = _resolve(xobject)
            if "/Resources" in xobject:
                visit(xobject["/Resources"])
        for pattern in _resolve(resources.get("/Pattern", DictionaryObject())).values():
            pattern = _resolve(pattern)
            if "/Resources" in pattern:
                visit(pattern["/Resources"])

    for page in read(pdf).pages:
        visit(page.get("/Resources"))
    return list(found.values())


def embedded_font_file(font: DictionaryObject) -> bool:
    """Whether the font's glyphs travel inside the PDF (FontFile, FontFile2 or FontFile3)."""
    if font.get("/Subtype") == "/Type0":
        descendant = _resolve(font["/DescendantFonts"][0])
        descriptor = _resolve(descendant.get("/FontDescriptor"))
    else:
        descriptor = _resolve(font.get("/FontDescriptor"))
    if descriptor is None:
        return False
    return any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
