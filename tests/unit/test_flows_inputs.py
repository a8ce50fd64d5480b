"""Sources of a batch (folder, glob, file, list), hashing with retries, the archive layout."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from flows.inputs import (
    TransientIOError,
    archive_destination,
    as_parameter,
    expand_source,
    file_sha256,
    from_parameter,
    move_to_archive,
    retry_transient,
)
from hdr.errors import ReasonCode, UsageError

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


@pytest.fixture
def share(tmp_path: Path) -> Path:
    root = tmp_path / "share"
    (root / "2026-11-24").mkdir(parents=True)
    (root / "2026-11-25").mkdir()
    (root / "2026-11-24" / "a.png").write_bytes(PNG)
    (root / "2026-11-25" / "b.png").write_bytes(PNG + b"b")
    (root / "2026-11-25" / "c.pdf").write_bytes(b"%PDF-1.7\n")
    (root / "2026-11-25" / "notes.txt").write_text("not a scan")
    (root / ".hidden.png").write_bytes(PNG)
    return root


def names(paths: list[str]) -> list[str]:
    return [Path(p).name for p in paths]


def test_a_folder_is_walked_in_sorted_order_without_other_files(share: Path) -> None:
    found = expand_source(str(share))
    assert names(found.paths) == ["a.png", "b.png", "c.pdf"]
    assert names(found.skipped) == ["notes.txt"] and found.roots == [str(share.absolute())]
    assert all(Path(p).is_absolute() for p in found.paths)


def test_globs_files_and_lists_are_read_once_each(share: Path) -> None:
    found = expand_source(
        [
            str(share / "**" / "*.png"),
            str(share / "2026-11-25" / "b.png"),
            str(share / "2026-11-25"),
        ]
    )
    assert names(found.paths) == ["a.png", "b.png", "c.pdf"]


def test_a_missing_source_is_an_error_not_an_empty_batch(share: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError) as err:
        expand_source(str(tmp_path / "no-such-folder"))
    assert err.value.code is ReasonCode.NOT_FOUND and "mounted" in (err.value.hint or "")
    with pytest.raises(UsageError) as err:
        expand_source(str(share / "*.tif"))
    assert err.value.code is ReasonCode.NOT_FOUND and "*.tif" in err.value.message
    with pytest.raises(UsageError):
        expand_source([])
    empty = tmp_path / "empty"
    empty.mkdir()
    assert expand_source(str(empty)).paths == []


def test_a_name_that_is_not_utf8_travels_as_a_json_safe_uri_and_comes_back(
    tmp_path: Path,
) -> None:
    folder = os.fsencode(tmp_path) + b"/ch\xe8que"
    os.mkdir(folder)
    with open(folder + b"/\xff%20 [1].png", "wb") as fh:
        fh.write(PNG)
    path = os.fsdecode(folder + b"/\xff%20 [1].png")
    param = as_parameter(path)
    assert param.startswith("file:///") and json.loads(json.dumps(param)) == param
    param.encode("ascii")  # what a flow parameter (JSON over HTTP) can carry
    assert from_parameter(param) == path  # the same bytes: "%20" and "[" are not mangled
    assert expand_source([param]).paths == [path]  # an existing name is not a glob
    glob = as_parameter(os.fsdecode(folder + b"/*.png"))
    assert expand_source(glob).paths == [path]  # a glob stays a glob


def test_a_text_path_is_a_parameter_as_typed(share: Path) -> None:
    for text in ["inbox/", str(share / "**" / "*.png"), "/scans/chèque.png", "file:notes.png"]:
        assert as_parameter(text) == text and from_parameter(text) == text
    assert from_parameter(share.as_uri()) == str(share)
    with pytest.raises(UsageError) as err:
        expand_source("file://server/share/a.png")
    assert err.value.code is ReasonCode.USAGE and "local file URI" in err.value.message


def test_transient_errors_are_retried_with_backoff_others_are_not() -> None:
    waits: list[float] = []
    calls = iter([OSError(errno.EIO, "I/O error"), OSError(errno.ESTALE, "stale"), "read"])

    def flaky() -> str:
        item = next(calls)
        if isinstance(item, OSError):
            raise item
        return item

    assert retry_transient(flaky, attempts=3, backoff_seconds=0.5, sleep=waits.append) == "read"
    assert waits == [0.5, 1.0]

    def missing() -> str:
        raise OSError(errno.ENOENT, "No such file")

    with pytest.raises(OSError):
        retry_transient(missing, attempts=3, backoff_seconds=0.5, sleep=waits.append)
    assert waits == [0.5, 1.0]  # no wait for a file that is not there

    def always_eio() -> str:
        raise TransientIOError(errno.EIO, "share down")

    with pytest.raises(TransientIOError):
        retry_transient(always_eio, attempts=2, backoff_seconds=1.0, sleep=waits.append)
    assert waits[2:] == [1.0, 2.0]


def test_hash_of_a_file_and_none_for_an_unreadable_one(share: Path) -> None:
    import hashlib

    assert file_sha256(str(share / "2026-11-24" / "a.png")) == hashlib.sha256(PNG).hexdigest()
    assert file_sha256(str(share / "2026-11-25"), attempts=0) is None  # a folder: unreadable


def test_archive_keeps_the_layout_and_never_overwrites(share: Path, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    a = share / "2026-11-24" / "a.png"
    dest = archive_destination(a, [share], archive)
    assert dest == archive / "2026-11-24" / "a.png"
    assert archive_destination(Path("/elsewhere/x.png"), [share], archive) == archive / "x.png"
    assert move_to_archive(a, dest) == dest and not a.exists()

    a.write_bytes(PNG)  # the same bytes again (a rerun after a copy): no second copy
    assert move_to_archive(a, dest) == dest and not a.exists()
    a.write_bytes(PNG + b"other")  # another file of the same name: kept beside it
    moved = move_to_archive(a, dest)
    assert moved.name == "a-1.png" and moved.read_bytes() == PNG + b"other"
    assert dest.read_bytes() == PNG
