"""Faults an operator meets with `hdr read` and `hdr batch`, injected through small fakes.

- A full disk under ``--debug-dir``, two ways: the process may not grow a file past 4 KiB
  (``RLIMIT_FSIZE``: writes fail part-way with EFBIG, as on a disk that fills up while a PNG
  is written), or the page's debug image is a link to ``/dev/full`` (every write is ENOSPC).
  Every page must still be read, with the same values, and carry ``debug_write_failed``.
- A model file that is corrupt, replaced or gone, in a copy of ``models/`` that ``$HDR_MODEL``
  or ``--model`` points at. The command must stop with one line naming the reason code and
  what to do (no traceback), and `hdr batch` must store nothing; a rerun with the good model
  completes the batch, and a second rerun stores nothing twice.

Real processes, real files, a real SQLite database; nothing inside hdr is patched.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import pytest

from hdr.errors import ExitCode
from hdr.io.debug import page_debug_dir

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "tests" / "resources" / "sample"
DOCS = ["doc_0002.png", "doc_0006.pdf", "doc_0004.tif"]  # the PDF has two pages
FILE_SIZE_LIMIT = 4096


def _hdr(
    *args: str | Path,
    env: dict[str, str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hdr", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **(env or {})},
        preexec_fn=preexec_fn,
    )


def _records(out: str) -> dict[tuple[str, int], dict]:
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    return {(Path(r["source"]).name, r["page"]): r for r in lines}


def _verdicts(records: dict[tuple[str, int], dict]) -> dict[tuple[str, int], tuple]:
    """What a reader of the output relies on: status and field values, per page."""
    return {
        key: (r["status"], tuple((n, f["value"]) for n, f in sorted(r["fields"].items())))
        for key, r in records.items()
    }


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("inputs")
    for name in DOCS:
        shutil.copy(SAMPLE / name, folder / name)
    return [folder / name for name in DOCS]


@pytest.fixture(scope="module")
def clean_read(inputs: list[Path]) -> dict[tuple[str, int], dict]:
    run = _hdr("read", "--jsonl", *inputs)
    assert run.returncode == 0, run.stderr
    return _records(run.stdout)


# ------------------------------------------------------------------ a full disk, --debug-dir


def _small_files_only() -> None:  # runs in the child, before exec
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))


def _link_page_images_to_dev_full(debug: Path, inputs: list[Path], clean_read: dict) -> None:
    for path in inputs:
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        for name, page in clean_read:
            if name == path.name:
                folder = page_debug_dir(debug, str(path), sha, page)
                folder.mkdir(parents=True)
                (folder / "page.png").symlink_to("/dev/full")


def _assert_no_file_cut_short(debug: Path) -> None:
    """A half-written PNG would send whoever opens it after a decoding bug that is not there."""
    for path in debug.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        if path.suffix == ".png":
            assert cv2.imread(str(path), cv2.IMREAD_UNCHANGED) is not None, path
        elif path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="/dev/full is Linux only")
@pytest.mark.parametrize("disk", ["files-stop-growing", "dev-full"])
def test_a_full_disk_under_debug_dir_costs_the_debug_files_not_the_reading(
    tmp_path: Path, inputs: list[Path], clean_read: dict, disk: str
) -> None:
    debug = tmp_path / "debug"
    preexec = None
    if disk == "files-stop-growing":
        preexec = _small_files_only
    else:
        _link_page_images_to_dev_full(debug, inputs, clean_read)

    run = _hdr("read", "--jsonl", "--debug-dir", debug, *inputs, preexec_fn=preexec)
    assert run.returncode == 0, run.stderr  # no input failed: a debug file is not an input
    records = _records(run.stdout)
    assert _verdicts(records) == _verdicts(clean_read)  # every page read, the same values
    for key, record in records.items():
        assert record["reasons"].count("debug_write_failed") == 1, (key, record["reasons"])
    assert "debug output to" in run.stderr  # the operator is told where writing failed
    _assert_no_file_cut_short(debug)

    # the disk has room again: the same command writes every debug file
    again = _hdr("read", "--jsonl", "--debug-dir", debug, *inputs)
    assert again.returncode == 0, again.stderr
    rerun = _records(again.stdout)
    assert _verdicts(rerun) == _verdicts(clean_read)
    assert all("debug_write_failed" not in r["reasons"] for r in rerun.values())
    page_dirs = sorted(p.parent for p in debug.rglob("page.png"))
    assert len(page_dirs) == len(clean_read)
    for folder in page_dirs:
        assert {"page.png", "amount.png", "glyphs.json"} <= {p.name for p in folder.iterdir()}
    _assert_no_file_cut_short(debug)


# ------------------------------------------------------------------ a bad model file


def _models_copy(root: Path, fault: str) -> Path:
    """A copy of models/ whose ONNX file has ``fault``; returns the file's path."""
    models = root / f"models-{fault}"
    shutil.copytree(REPO / "models", models)
    onnx = models / "digits.onnx"
    data = bytearray(onnx.read_bytes())
    if fault == "flipped_byte":  # bit rot in a weight: the file still parses
        data[len(data) // 2] ^= 0xFF
        onnx.write_bytes(bytes(data))
    elif fault == "truncated":  # a copy cut short
        onnx.write_bytes(bytes(data[: len(data) // 3]))
    elif fault == "replaced":  # another file put in its place
        onnx.write_bytes((REPO / "models" / "digits.pt").read_bytes())
    elif fault == "missing":
        onnx.unlink()
    elif fault != "good":
        raise AssertionError(fault)
    return onnx


def _error_line(run: subprocess.CompletedProcess[str], code: str, path: Path) -> str:
    """The one line that tells the operator what happened and what to do."""
    assert run.returncode == ExitCode.MODEL, (run.returncode, run.stderr[-3000:])
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    (line,) = [x for x in run.stderr.splitlines() if x.startswith("hdr: error:")]
    assert line.startswith(f"hdr: error: [{code}] "), line
    assert str(path) in line
    assert any(word in line for word in ("restore", "train one")), line  # what to do
    return line


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        ("flipped_byte", "model_hash_mismatch"),
        ("truncated", "model_hash_mismatch"),
        ("replaced", "model_hash_mismatch"),
        ("missing", "model_missing"),
    ],
)
def test_read_refuses_a_bad_model_in_one_line(
    tmp_path: Path, inputs: list[Path], fault: str, code: str
) -> None:
    onnx = _models_copy(tmp_path, fault)
    run = _hdr("read", "--jsonl", *inputs, env={"HDR_MODEL": str(onnx)})
    _error_line(run, code, onnx)
    assert run.stdout == ""  # not one page read with a model nobody vouches for
    assert len(run.stderr.strip().splitlines()) == 1


def test_read_uses_the_model_hdr_model_points_at(
    tmp_path: Path, inputs: list[Path], clean_read: dict
) -> None:
    onnx = _models_copy(tmp_path, "good")
    run = _hdr("read", "--jsonl", *inputs, env={"HDR_MODEL": str(onnx)})
    assert run.returncode == 0, run.stderr
    assert _verdicts(_records(run.stdout)) == _verdicts(clean_read)


def _table_counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # fixed names
            for table in ("batches", "documents", "results", "batch_items", "pages")
        }


@pytest.mark.slow
def test_batch_refuses_bad_models_stores_nothing_and_the_rerun_completes(
    tmp_path: Path, inputs: list[Path]
) -> None:
    db = tmp_path / "results.sqlite3"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for path in inputs[:2]:
        shutil.copy(path, inbox / path.name)
    batch: list[str | Path] = [
        "batch",
        "--db-url",
        f"sqlite:///{db}",
        "--no-progress",
        "--json",
        inbox,
    ]
    prefect_home = {"PREFECT_HOME": str(tmp_path / "prefect")}

    tries: list[str] = []

    def fails_cleanly(fault: str, code: str, how: str, before: dict[str, int] | None) -> None:
        tries.append(f"{fault}-{how}")
        onnx = _models_copy(tmp_path / f"try-{len(tries)}", fault)
        env = {**prefect_home}
        args = list(batch)
        if how == "hdr_model":  # the configured model, moved: its pin still applies
            env["HDR_MODEL"] = str(onnx)
        else:  # a model file given by path: its card vouches for it
            args += ["--model", onnx]
        run = _hdr(*args, env=env)
        _error_line(run, code, onnx)
        assert run.stdout == ""
        counts = _table_counts(db)
        assert counts == (before or dict.fromkeys(counts, 0)), (fault, how, counts)

    fails_cleanly("flipped_byte", "model_hash_mismatch", "hdr_model", None)
    fails_cleanly("flipped_byte", "model_hash_mismatch", "path", None)
    fails_cleanly("truncated", "model_hash_mismatch", "path", None)

    first = _hdr(*batch, env=prefect_home)
    assert first.returncode == 0, first.stderr[-3000:]
    summary = json.loads(first.stdout)
    assert summary["n_documents"] == summary["n_read"] == 2
    after_first = _table_counts(db)
    assert after_first["batches"] == 1
    assert after_first["documents"] == after_first["results"] == after_first["batch_items"] == 2

    shutil.copy(inputs[2], inbox / inputs[2].name)  # new work arrives; the model breaks again
    fails_cleanly("flipped_byte", "model_hash_mismatch", "hdr_model", after_first)

    second = _hdr(*batch, env=prefect_home)
    assert second.returncode == 0, second.stderr[-3000:]
    summary = json.loads(second.stdout)
    assert summary["n_documents"] == 3 and summary["n_reused"] == 2 and summary["n_read"] == 1
    final = _table_counts(db)
    assert final["batches"] == 2
    assert final["documents"] == final["results"] == 3  # each document once
