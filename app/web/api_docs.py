"""/docs: the OpenAPI explorer, served from static/ so the page makes no third-party request."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter()
SWAGGER = "/static/vendor/swagger-ui-5.35.0"

_PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>LDN Diary API</title>
  <link rel="stylesheet" href="{SWAGGER}/swagger-ui.css">
</head>
<body>
  <main id="swagger-ui"></main>
  <script src="{SWAGGER}/swagger-ui-bundle.js"></script>
  <script src="/static/js/api-docs.js"></script>
</body>
</html>
"""


@router.get("/docs", response_class=HTMLResponse)
def api_docs() -> HTMLResponse:
    return HTMLResponse(_PAGE)
