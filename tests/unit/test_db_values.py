"""Values people type and keys the database derives, without a database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from db.report import parse_since
from db.repository import content_key
from db.review import normalize_value
from db.session import redact
from hdr.errors import ReasonCode, UsageError
from hdr.types import DocumentResult, Status


@pytest.mark.parametrize(
    ("name", "typed", "stored"),
    [
        ("amount", "1250", "1250.00"),
        ("amount", " 1250,5 ", "1250.50"),
        ("amount", "0.07", "0.07"),
        ("amount", "1 250.00", "1250.00"),
        ("account", "0012 3456-78", "0012345678"),
        ("account", "0000000001", "0000000001"),  # leading zeros are part of the number
        ("iban_note", "  checked  ", "checked"),
    ],
)
def test_typed_values_are_stored_in_canonical_form(name: str, typed: str, stored: str) -> None:
    assert normalize_value(name, typed) == stored


@pytest.mark.parametrize(
    ("name", "typed"),
    [
        ("amount", "12.345"),
        ("amount", "-5.00"),
        ("amount", "1e3"),
        ("amount", ""),
        ("account", "12AB34"),
        ("account", ""),
        ("other", "   "),
    ],
)
def test_values_that_cannot_be_right_are_refused(name: str, typed: str) -> None:
    with pytest.raises(UsageError) as err:
        normalize_value(name, typed)
    assert err.value.code is ReasonCode.USAGE


def test_since_accepts_dates_and_datetimes_in_utc() -> None:
    assert parse_since("2026-05-01") == datetime(2026, 5, 1, tzinfo=UTC)
    assert parse_since("2026-05-01T10:30+02:00") == datetime(2026, 5, 1, 8, 30, tzinfo=UTC)
    assert parse_since(None) is None
    with pytest.raises(UsageError):
        parse_since("yesterday")


def test_unreadable_files_are_keyed_by_their_source() -> None:
    def failed(source: str, sha256: str | None = None) -> DocumentResult:
        return DocumentResult(source=source, sha256=sha256, media_type=None, status=Status.ERROR)

    assert content_key(failed("a.png", "f" * 64)) == "f" * 64
    assert content_key(failed("a.png")) == content_key(failed("a.png"))
    assert content_key(failed("a.png")) != content_key(failed("b.png"))
    assert content_key(failed("a.png")).startswith("nocontent:")


def test_passwords_never_reach_messages() -> None:
    shown = redact("postgresql+psycopg://hdr:s3cret@db.example:5432/results")
    assert "s3cret" not in shown and "db.example:5432/results" in shown
