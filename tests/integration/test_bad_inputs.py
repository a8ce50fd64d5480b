"""Broken and hostile inputs, as a user meets them: one `hdr batch` and one `hdr read --jsonl`.

The corpus is ``tests/resources/bad`` (made by its ``make_bad.py``; the README says why each
case is there) plus what git cannot hold, made here at run time: a dangling symbolic link, a
link to a file outside the batch, a file with mode 000, a file name that is not UTF-8, a FIFO.
Every input must end as a stored row with status ``error`` or ``rejected`` and a reason code,
the good sample document in the same batch must still be read, and the run must finish (the
subprocess timeout is the hang guard; no time is asserted).
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from hdr.errors import ReasonCode

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
BAD = REPO / "tests" / "resources" / "bad"
GOOD = REPO / "tests" / "resources" / "sample" / "doc_0002.png"
CODES = {code.value for code in ReasonCode}
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
HANG_GUARD_S = 600


def _load_cases() -> list:
    spec = importlib.util.spec_from_file_location("make_bad", BAD / "make_bad.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_bad"] = module
    spec.loader.exec_module(module)
    return list(module.CASES)


CASES = {case.name: case for case in _load_cases()}
# Known pipeline bugs, one per case: strict, so a fix shows up as XPASS and the mark goes.
KNOWN_BUGS: dict[str, str] = {}

LATIN1_NAME = "ch\udce8que_\udcff.png"  # b"ch\xe8que_\xff.png" as Python carries it
# Made at run time in the inbox folder: name -> (status, code). The mode-000 file is readable
# by root, who then gets its content's reason (a PNG signature and junk: decode_failed or
# truncated_file, as Pillow words it).
RUNTIME = {
    "dangling.png": ("error", "file_not_found"),
    "link_to_outside.png": ("error", None),
    "unreadable.png": ("error", None if IS_ROOT else "permission_denied"),
    LATIN1_NAME: ("error", None),
    "fifo.png": ("error", "not_a_regular_file"),
}
# Inputs that once took a whole batch down with them: each is tested on its own (below).
BATCH_ALONE = {LATIN1_NAME, "fifo.png"}


def _make_latin1_file(folder: Path) -> Path:
    """A Latin-1 file name (e-grave, 0xff): not UTF-8; Python carries it as surrogate escapes."""
    path = os.fsencode(folder) + b"/ch\xe8que_\xff.png"
    with open(path, "wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\nlatin-1 name")
    return Path(os.fsdecode(path))


def _make_fifo(folder: Path) -> Path:
    fifo = folder / "fifo.png"
    os.mkfifo(fifo)
    return fifo


def _make_runtime_inbox(root: Path, *, with_latin1: bool = True) -> Path:
    """The cases git cannot hold, in a folder the batch walks (as an inbox would be)."""
    inbox = root / "inbox"
    inbox.mkdir()
    (inbox / "dangling.png").symlink_to(root / "nowhere" / "gone.png")
    outside = root / "outside.png"
    outside.write_bytes(b"\x89PNG\r\n\x1a\nlinked from the inbox")
    (inbox / "link_to_outside.png").symlink_to(outside)
    unreadable = inbox / "unreadable.png"
    unreadable.write_bytes(b"\x89PNG\r\n\x1a\nmode 000")
    unreadable.chmod(0)
    if with_latin1:
        _make_latin1_file(inbox)
    return inbox


def _committed_inputs() -> list[Path]:
    return [BAD / name for name in CASES]


def _expected(name: str) -> tuple[str, str | None]:
    if name in RUNTIME:
        return RUNTIME[name]
    case = CASES[name]
    return case.status, case.code


def _params(skip: set[str] = frozenset()) -> list:  # type: ignore[assignment]
    out = []
    for name in [*CASES, *RUNTIME]:
        if name in skip:
            continue
        marks = []
        if name in KNOWN_BUGS:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[name]))
        out.append(pytest.param(name, marks=marks, id=name.encode("utf-8", "replace").decode()))
    return out


def _check(name: str, status: str, codes: list[str]) -> None:
    """The user-visible verdict: error/rejected, and a reason code (the expected one if known)."""
    want_status, want_code = _expected(name)
    assert status in ("error", "rejected"), (name, status, codes)
    if want_status != "either":
        assert status == want_status, (name, status, codes)
    known = [c for c in codes if c in CODES]
    assert known, f"{name}: no reason code among {codes}"
    if want_code is not None:
        assert want_code in known, (name, codes)


# ----------------------------------------------------------------- hdr read --jsonl


@pytest.fixture(scope="module")
def read_lines(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict]]:
    root = tmp_path_factory.mktemp("bad-read")
    inbox = _make_runtime_inbox(root)
    # The FIFO is named on the command line: in a folder it hangs the walk (test below).
    args = [*_committed_inputs(), inbox, _make_fifo(root), GOOD]
    run = subprocess.run(
        [sys.executable, "-m", "hdr", "read", "--jsonl", *map(os.fsencode, args)],
        capture_output=True,
        timeout=HANG_GUARD_S,
        check=False,
    )
    # exit 1: some inputs could not be read, which is what this corpus is for
    assert run.returncode == 1, run.stderr.decode(errors="replace")
    by_name: dict[str, list[dict]] = {}
    for line in run.stdout.decode("utf-8", "surrogateescape").splitlines():
        record = json.loads(line)
        by_name.setdefault(Path(record["source"]).name, []).append(record)
    return by_name


@pytest.mark.parametrize("name", _params())
def test_read_gives_every_bad_input_a_status_and_reason(read_lines, name: str) -> None:
    assert name in read_lines, f"{name}: no line in the output of hdr read --jsonl"
    for record in read_lines[name]:
        _check(name, record["status"], record["reasons"])


def test_read_still_reads_the_good_document_among_bad_ones(read_lines) -> None:
    (record,) = read_lines[GOOD.name]
    assert record["status"] in ("accepted", "review")
    assert record["fields"]["amount"]["value"] is not None


# ----------------------------------------------------------------- hdr batch (Prefect, SQLite)


@pytest.fixture(scope="module")
def batch_rows(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    root = tmp_path_factory.mktemp("bad-batch")
    inbox = _make_runtime_inbox(root, with_latin1=False)
    return _stored_rows(root, [*_committed_inputs(), inbox, GOOD], HANG_GUARD_S)


def _run_batch(root: Path, inputs: list[Path], timeout_s: float) -> tuple[int, bytes, bytes]:
    """`hdr batch` in its own process group, killed whole at the hang guard (SIGTERM is not
    enough once a worker thread sits in a blocking open)."""
    db_file = root / "results.sqlite3"
    cmd = [sys.executable, "-m", "hdr", "batch", "--db-url", f"sqlite:///{db_file}", "--json"]
    proc = subprocess.Popen(
        [*cmd, "--no-progress", *map(os.fsencode, inputs)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PREFECT_HOME": str(root / "prefect")},
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"hdr batch did not finish in {timeout_s:g} s: it hangs")
    return proc.returncode, out, err


def _stored_rows(root: Path, inputs: list[Path], timeout_s: float) -> dict[str, dict]:
    """Run one batch; its stored results by file name, with their pages' reasons."""
    code, out, err = _run_batch(root, inputs, timeout_s)
    assert code in (0, 1), err.decode(errors="replace")[-3000:]
    summary = json.loads(out)
    with sqlite3.connect(root / "results.sqlite3") as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute(
            "SELECT r.id, r.status, r.reason_code, r.source_uri, d.content_key FROM results r "
            "JOIN documents d ON d.id = r.document_id WHERE r.batch_id = ?",
            (summary["batch_id"],),
        ).fetchall()
        out: dict[str, dict] = {}
        for row in rows:
            pages = conn.execute(
                "SELECT reasons FROM pages WHERE result_id = ? ORDER BY page_index", (row["id"],)
            ).fetchall()
            reasons = [r for p in pages for r in json.loads(p["reasons"])]
            name = Path(row["source_uri"]).name
            out[name] = {**dict(row), "page_reasons": reasons}
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", _params(skip=BATCH_ALONE))
def test_batch_stores_every_bad_input_as_an_error_or_rejected_row(batch_rows, name) -> None:
    assert name in batch_rows, f"{name}: no stored row (have {sorted(batch_rows)})"
    row = batch_rows[name]
    codes = [row["reason_code"]] if row["reason_code"] else []
    _check(name, row["status"], codes + row["page_reasons"])


@pytest.mark.slow
def test_batch_still_reads_the_good_document(batch_rows) -> None:
    row = batch_rows[GOOD.name]
    assert row["status"] in ("accepted", "review")
    assert row["reason_code"] is None


@pytest.mark.slow
def test_batch_rejected_rows_carry_their_reason_code(batch_rows) -> None:
    """types.DocumentResult.reason_code is documented for status error *and* rejected."""
    rejected = {n: r for n, r in batch_rows.items() if r["status"] == "rejected"}
    assert rejected
    missing = sorted(n for n, r in rejected.items() if not r["reason_code"])
    assert not missing, f"rejected without results.reason_code: {missing}"


# ------------------------------------------------- inputs that once stopped a whole batch


@pytest.mark.slow
@pytest.mark.parametrize("given_as", ["file", "folder"])
def test_batch_stores_a_file_with_a_non_utf8_name(tmp_path: Path, given_as: str) -> None:
    """Named on the command line (it travels to the flow as a file:// URI) or found in a
    folder: stored as an error row under a readable name, and the batch goes on."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    latin1 = _make_latin1_file(inbox)
    code, out, err = _run_batch(tmp_path, [latin1 if given_as == "file" else inbox, GOOD], 300)
    assert code in (0, 1), err.decode(errors="replace")[-3000:]
    summary = json.loads(out)
    with sqlite3.connect(tmp_path / "results.sqlite3") as conn:
        rows = conn.execute(
            "SELECT source_uri, status, reason_code, reason_message FROM results "
            "WHERE batch_id = ?",
            (summary["batch_id"],),
        ).fetchall()
    by_name = {Path(row[0]).name: row for row in rows}
    readable = "ch\\xe8que_\\xff.png"  # the bytes that are not UTF-8, backslash-escaped
    assert set(by_name) == {readable, GOOD.name}
    _, status, reason_code, message = by_name[readable]
    _check(LATIN1_NAME, status, [reason_code or ""])
    assert readable in message
    assert by_name[GOOD.name][1] in ("accepted", "review")
    # the summary names the file readably too (it is shown in the UI and the artifact)
    assert [Path(e[0]).name for e in summary["errors"]] == [readable]


@pytest.mark.slow
def test_batch_stores_a_fifo_named_on_the_command_line(tmp_path: Path) -> None:
    rows = _stored_rows(tmp_path, [_make_fifo(tmp_path), GOOD], timeout_s=120)
    row = rows["fifo.png"]
    _check("fifo.png", row["status"], [row["reason_code"] or "", *row["page_reasons"]])


@pytest.mark.slow
def test_read_of_a_folder_with_a_fifo_finishes(tmp_path: Path) -> None:
    _make_fifo(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "hdr", "read", "--jsonl", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=45)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("hdr read of a folder holding a FIFO did not finish in 45 s")
    (record,) = [json.loads(line) for line in out.decode().splitlines()]
    assert record["status"] == "error"
    assert record["reasons"] == ["not_a_regular_file"]
