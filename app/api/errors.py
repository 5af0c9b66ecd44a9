"""Errors in FastAPI's own 422 shape, for rules checked outside the request models."""

from fastapi import HTTPException


def field_error(loc: list[str | int], message: str) -> HTTPException:
    """A 422 naming the field that was refused."""
    return HTTPException(
        status_code=422, detail=[{"loc": loc, "msg": message, "type": "value_error"}]
    )
