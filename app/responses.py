"""The app's JSON response: FastAPI's, except that it cannot fail on what a client sent."""

from __future__ import annotations

import json
from typing import Any

from fastapi import responses


class JSONResponse(responses.JSONResponse):
    """A lone UTF-16 surrogate, which a client can send as the JSON escape "\\ud800" and a 422
    or a sync result then repeats, goes back as that same escape instead of failing to encode
    (which turned a refusal into a 500). Everything else is encoded exactly as FastAPI does."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(
            content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
        )
        return text.encode("utf-8", "backslashreplace")
