"""HdrError -> HTTP: the status that says what went wrong, and the words shown to a person."""

from __future__ import annotations

from db.dual_control import ReviewConflict
from hdr.errors import HdrError, ReasonCode, StorageError

_STATUS = {
    ReasonCode.NOT_FOUND: 404,
    ReasonCode.FILE_NOT_FOUND: 404,  # a document's file, moved away since it was read
    ReasonCode.FILE_TOO_LARGE: 413,
    ReasonCode.TOO_MANY_PAGES: 413,
    ReasonCode.UNSUPPORTED_FORMAT: 415,
    ReasonCode.URL_REFUSED: 400,
    ReasonCode.READ_FAILED: 502,
    ReasonCode.DB_UNAVAILABLE: 503,
}


def http_status(err: HdrError) -> int:
    """404 unknown id, 409 a review that lost a race, 413/415 refused files, 422 bad input."""
    if isinstance(err, ReviewConflict):
        return 409
    if err.code in _STATUS:
        return _STATUS[err.code]
    return 500 if isinstance(err, StorageError) or err.code is ReasonCode.INTERNAL else 422


def error_body(err: HdrError) -> dict[str, str | None]:
    """The JSON of an API error: ``{"error": code, "message": ..., "hint": ...}``."""
    return {"error": err.code.value, "message": err.message, "hint": err.hint}


def form_error(err: HdrError) -> str:
    """One sentence for the top of a form: the message, and the hint when there is one."""
    text = err.message[:1].upper() + err.message[1:]
    return f"{text}. {err.hint[:1].upper() + err.hint[1:]}." if err.hint else f"{text}."
