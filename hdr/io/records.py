"""The JSON records of `hdr read --jsonl`: one object per page, or one for a file that failed.

>>> from hdr.types import DocumentResult, Status
>>> r = DocumentResult("x.txt", None, None, Status.ERROR, reason_code="unsupported_format")
>>> result_records(r)[0]["status"]
'error'
"""

from __future__ import annotations

from typing import Any

from hdr.types import DocumentResult, FieldName, Status


def result_records(result: DocumentResult, field: str | None = None) -> list[dict[str, Any]]:
    """The JSON objects `hdr read --jsonl` prints: one per page, or one for a failed file.

    ``page`` is 0-based; ``fields`` holds ``amount`` and ``account`` (only ``field`` in --field
    mode), each ``{"value", "confidence", "flags"}``; a field that was not found has a null value.

    >>> from hdr.types import DocumentResult, Status
    >>> r = DocumentResult("x.txt", None, None, Status.ERROR, reason_code="unsupported_format")
    >>> result_records(r)[0]["reasons"]
    ['unsupported_format']
    """
    names = (field,) if field else tuple(f.value for f in FieldName)
    base = {"source": result.source, "sha256": result.sha256}
    records: list[dict[str, Any]] = []
    if not result.pages:
        records.append(
            {
                **base,
                "page": None,
                "status": result.status.value,
                "fields": {},
                "reasons": [result.reason_code] if result.reason_code else [],
                "message": result.reason_message,
            }
        )
    for page in result.pages:
        fields: dict[str, Any] = {}
        if page.status is not Status.ERROR:
            for name in names:
                fr = page.fields.get(name)
                fields[name] = {
                    "value": fr.value if fr else None,
                    "confidence": round(fr.confidence, 4) if fr else 0.0,
                    "flags": list(fr.flags) if fr else [f"field_not_found:{name}"],
                }
        record = {
            **base,
            "page": page.index,
            "status": page.status.value,
            "fields": fields,
            "reasons": list(page.reasons),
        }
        if page.status is Status.ERROR:
            record["message"] = result.reason_message
        records.append(record)
    return [{k: r[k] for k in _RECORD_ORDER if k in r} for r in records]


_RECORD_ORDER = ("source", "page", "status", "fields", "reasons", "sha256", "message")
