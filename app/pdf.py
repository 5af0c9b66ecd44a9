"""The doctor's summary as a document: the report template as HTML, and as PDF by WeasyPrint.

WeasyPrint runs offline: its URL fetcher serves files from static/ and the system's font
files, and refuses everything else, so a summary can never make the server fetch from the
network (or read other files), whatever a template or a patient's text contains. The font is
DejaVu Sans from the system (package fonts-dejavu-core, found by report.css's
`@font-face { src: local(...) }`); WeasyPrint embeds the glyphs it uses.

Rendering a PDF takes a few hundred milliseconds of pure-Python work. Done in the app's own
process it would hold the interpreter's lock for that long, slice by slice, and every other
patient's save would queue behind it; so it runs in a separate worker process (one, started on
first use and shared by every app in this process), and the page waits for it without holding
anything.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from starlette.responses import Response
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from app.services.report import ReportData
from app.workers import PDFS

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
# @font-face local("DejaVu Sans") resolves, through fontconfig, to a file here.
SYSTEM_FONTS = Path("/usr/share/fonts")
FONT_SUFFIXES = frozenset({".ttf", ".otf"})
# Pages are rendered as if served from this origin; only its /static/ paths are fetched.
DOCUMENT_ORIGIN = "https://ldn-diary.invalid"


class StaticFilesOnly(URLFetcher):
    """Serves /static/ files and system font files from disk; refuses every other URL."""

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.scheme == "file":
            return self._system_font(url, unquote(parts.path))
        if f"{parts.scheme}://{parts.netloc}" != DOCUMENT_ORIGIN or not parts.path.startswith(
            "/static/"
        ):
            raise ValueError(f"the summary only uses the app's own static files, not {url}")
        path = (STATIC_DIR / unquote(parts.path.removeprefix("/static/"))).resolve()
        if not path.is_relative_to(STATIC_DIR) or not path.is_file():
            raise ValueError(f"no such static file: {parts.path}")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if content_type.startswith("text/"):
            content_type += "; charset=utf-8"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})

    def _system_font(self, url: str, path_text: str) -> URLFetcherResponse:
        path = Path(path_text).resolve()
        if (
            not path.is_relative_to(SYSTEM_FONTS)
            or path.suffix.lower() not in FONT_SUFFIXES
            or not path.is_file()
        ):
            raise ValueError(f"the summary reads no local files but fonts, not {url}")
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": "font/ttf"})


def summary_document(report: ReportData, *, pdf_href: str | None = None) -> str:
    """The summary as a standalone HTML page (for WeasyPrint and for a share link)."""
    # Imported here: app.web's routers import this module, so a top-level import would loop.
    from app.web.templating import STATIC_VERSION, templates

    return templates.env.get_template("report/document.html").render(
        report=report, pdf_href=pdf_href, static_version=STATIC_VERSION
    )


def summary_pdf(report: ReportData) -> bytes:
    """The summary as an A4 PDF with its fonts embedded (rendered in the PDF process)."""
    return PDFS.call(html_to_pdf, summary_document(report), timeout=PDF_TIMEOUT_SECONDS)


def html_to_pdf(html: str) -> bytes:
    """WeasyPrint's PDF of a summary document (runs in the PDF process)."""
    document = HTML(string=html, base_url=f"{DOCUMENT_ORIGIN}/", url_fetcher=StaticFilesOnly())
    # Tagged: a screen reader can read the PDF in order, tables as tables.
    pdf = document.write_pdf(pdf_tags=True)
    assert pdf is not None
    return pdf


PDF_TIMEOUT_SECONDS = 60.0


def pdf_response(pdf: bytes, filename: str, *, attachment: bool) -> Response:
    """A PDF response that no cache keeps."""
    disposition = "attachment" if attachment else "inline"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'{disposition}; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
