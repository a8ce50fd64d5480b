"""`hdr db`, `hdr results` and `hdr review` against a temporary database on both backends."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from db import create_engine_from_url, session_scope, start_batch, store_document
from db.testing import backend_params, sample_result, temporary_database
from hdr.cli import app
from hdr.errors import ExitCode, ReasonCode, UsageError
from hdr.types import Status

pytestmark = pytest.mark.integration


@pytest.fixture(params=backend_params())
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with temporary_database(request.param, tmp_path) as url:
        yield url


def hdr(url: str, *args: str) -> str:
    result = CliRunner().invoke(app, list(args), env={"HDR_DB_URL": url})
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def hdr_process(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HDR_DB_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "hdr", *args], env=env, capture_output=True, text=True, check=False
    )


def fill(url: str) -> int:
    engine = create_engine_from_url(url)
    with session_scope(engine, write=True) as session:
        batch_id = start_batch(session, "inbox/", "ops", "e" * 64)
    statuses = [Status.ACCEPTED, Status.REVIEW, Status.ERROR]
    for seed, status in enumerate(statuses, start=1):
        store_document(engine, batch_id, sample_result(seed, status=status, amount="1250.00"))
    engine.dispose()
    return batch_id


def test_operator_session_from_upgrade_to_review(db_url: str, tmp_path: Path) -> None:
    assert "at revision 0004" in hdr(db_url, "db", "upgrade")
    assert hdr(db_url, "db", "current").strip() == "current 0004, head 0004"
    batch_id = fill(db_url)

    listing = hdr(db_url, "results", "list", "--status", "review").splitlines()
    assert listing[0].split() == [
        "id",
        "status",
        "amount",
        "account",
        "batch",
        "read",
        "at",
        "source",
    ]
    assert len(listing) == 2 and "review" in listing[1] and "1250.00" in listing[1]
    errors = hdr(db_url, "results", "list", "--batch", str(batch_id), "--status", "error")
    assert "[decode_failed]" in errors
    assert hdr(db_url, "results", "list", "--since", "2999-01-01").strip() == "no documents match"

    summary = hdr(db_url, "results", "summary", "--json")
    (row,) = json.loads(summary)
    assert (row["n_documents"], row["n_accepted"], row["n_review"], row["n_error"]) == (3, 1, 1, 1)
    assert row["read_rate"] == pytest.approx(1 / 3)
    assert "33.3%" in hdr(db_url, "results", "summary")

    crop = tmp_path / "crop.png"
    shown = hdr(db_url, "review", "next", "--crop-out", str(crop))
    field_id = shown.split()[1].rstrip(":")
    assert shown.startswith(f"field {field_id}: amount = 1250.00")
    assert crop.read_bytes().startswith(b"\x89PNG")

    done = hdr(db_url, "review", "set", field_id, "1205.00", "--by", "alice", "--note", "typo")
    assert done.strip() == f"field {field_id}: 1250.00 -> 1205.00 (accepted, by alice)"
    assert hdr(db_url, "review", "next").strip() == "review queue is empty"

    document_id = hdr(db_url, "results", "list", "--status", "accepted").splitlines()[2].split()[0]
    detail = hdr(db_url, "results", "show", document_id)
    assert "reviewed" in detail and "by alice: 1250.00 -> 1205.00  note: typo" in detail
    as_json = json.loads(hdr(db_url, "results", "show", document_id, "--json"))
    (amount,) = [f for f in as_json["results"][0]["fields"] if f["name"] == "amount"]
    assert (amount["value"], amount["read_value"], amount["status"]) == (
        "1205.00",
        "1250.00",
        "accepted",
    )

    out = tmp_path / "results.csv"
    hdr(db_url, "results", "export", "--format", "csv", "--output", str(out))
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["status"] for r in rows] == ["accepted", "accepted", "error"]
    assert rows[1]["amount"] == "1205.00"
    jsonl = hdr(db_url, "results", "export", "--format", "jsonl", "--status", "error")
    (record,) = [json.loads(line) for line in io.StringIO(jsonl)]
    assert record["reason_code"] == "decode_failed" and record["amount"] is None


def test_errors_are_one_line_with_a_reason_and_an_exit_status(db_url: str) -> None:
    no_schema = hdr_process(db_url, "results", "list")
    assert no_schema.returncode == ExitCode.STORAGE
    assert "[db_error]" in no_schema.stderr and "hdr db upgrade" in no_schema.stderr

    hdr(db_url, "db", "upgrade")
    unknown = hdr_process(db_url, "results", "show", "999")
    assert unknown.returncode == ExitCode.USAGE
    assert unknown.stderr.strip().splitlines() == [
        "hdr: error: [not_found] no document with id or sha256 '999'"
        " (`hdr results list` shows document ids)"
    ]
    for args, code in [
        (["review", "set", "1", "1.00", "--by", "bob"], ReasonCode.NOT_FOUND),
        (["results", "export", "--format", "xml"], ReasonCode.USAGE),
        (["results", "list", "--status", "maybe"], ReasonCode.USAGE),
        (["results", "summary", "--batch", "7"], ReasonCode.NOT_FOUND),
    ]:
        result = CliRunner().invoke(app, args, env={"HDR_DB_URL": db_url})
        assert isinstance(result.exception, UsageError), args  # main() prints it, exits 2
        assert result.exception.code is code


def test_unreachable_database_is_a_storage_error() -> None:
    done = hdr_process("postgresql+psycopg://postgres@127.0.0.1:1/test", "results", "list")
    assert done.returncode == ExitCode.STORAGE
    assert "[db_unavailable] cannot reach the results database" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1  # no traceback
