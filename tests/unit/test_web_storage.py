"""Uploaded files never leave their job folder, whatever name the browser sends.

The names are what a hostile client can put in a multipart ``filename``: parent references,
absolute paths (POSIX and Windows), NUL bytes, control and bidi characters, a name of 5,000
characters. The stored path is the server's (``<position>-<sha256 prefix>.<ext>``); the name is
kept only to be shown, cleaned.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest

from hdr.errors import InputError, ReasonCode
from web.config import load_web_config
from web.storage import inside, new_job_folder, store_file

SAMPLE_PNG = Path(__file__).resolve().parents[1] / "resources" / "sample" / "doc_0002.png"
CFG = load_web_config()
HOSTILE_NAMES = [
    "../../x.png",
    "../../../../../../etc/cron.d/evil",
    "/etc/passwd",
    "/tmp/../../root/.ssh/authorized_keys",
    "..\\..\\windows\\system32\\x.png",
    "C:\\Users\\Public\\x.png",
    "a\x00b.png",
    "\x00",
    "..",
    ".",
    "",
    None,
    "cheque\n.png",
    "\u202egnp.exe",  # right-to-left override: shows as "exe.png"
    "x" * 5000 + ".png",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=lambda n: repr(n)[:40])
def test_an_upload_is_stored_inside_its_folder_under_a_server_name(
    tmp_path: Path, name: str | None
) -> None:
    root = tmp_path / "uploads"
    folder = new_job_folder(root)
    before = {p for p in tmp_path.rglob("*")}
    stored = store_file(folder, 0, name, io.BytesIO(SAMPLE_PNG.read_bytes()), CFG)

    path = folder / stored.stored_name
    assert re.fullmatch(r"000-[0-9a-f]{16}\.png", stored.stored_name)
    assert path.is_file() and inside(folder, path)
    assert {p for p in tmp_path.rglob("*")} - before == {path}  # nothing written elsewhere
    shown = stored.original_name
    assert shown and len(shown) <= 200 and shown.isprintable()
    assert not {"/", "\\", "\x00"} & set(shown)
    assert folder.parent == root and re.fullmatch(r"[0-9a-f]{32}", folder.name)
    assert oct(folder.stat().st_mode & 0o777) == "0o700"


def test_a_refused_upload_leaves_nothing_behind(tmp_path: Path) -> None:
    folder = new_job_folder(tmp_path / "uploads")
    with pytest.raises(InputError) as err:
        store_file(folder, 0, "../../notes.png", io.BytesIO(b"plain text"), CFG)
    assert err.value.code is ReasonCode.UNSUPPORTED_FORMAT
    assert list(folder.iterdir()) == []
    assert not (tmp_path / "notes.png").exists()


def test_inside_follows_links_and_parent_references(tmp_path: Path) -> None:
    root = tmp_path / "uploads"
    root.mkdir()
    outside = tmp_path / "secret.png"
    outside.write_bytes(b"x")
    (root / "link.png").symlink_to(outside)
    assert inside(root, root / "a.png")
    assert not inside(root, root / ".." / "secret.png")
    assert not inside(root, root / "link.png")  # resolved: the link points out
    assert not inside(root, Path("/etc/passwd"))
    assert not inside(root, Path(os.fsdecode(os.fsencode(root) + b"/../x")))
