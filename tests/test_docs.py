"""The README and docs/ stand alone: every link they make is to a file in this repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: path.name)
def test_every_link_is_to_a_file_in_the_repository(doc: Path) -> None:
    text = doc.read_text()
    assert "../" not in text, "a path outside the repository"
    assert "SPEC" not in text, "the product spec is not part of the repository"
    for target in LINK.findall(text):
        if target.startswith(("http://127.0.0.1", "http://localhost", "#")):
            continue
        assert "://" not in target, f"{target}: a page outside the repository"
        assert (doc.parent / target.split("#")[0]).exists(), f"{target} does not exist"


def test_the_readme_points_to_the_guide_for_patients_and_doctors() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "docs/guide.md" in readme and "make demo" in readme
