"""Input expansion: folders walked recursively, sorted; sidecar files skipped, not failed."""

from __future__ import annotations

from pathlib import Path

from hdr.io.walk import expand_inputs

PNG = b"\x89PNG\r\n\x1a\n" + bytes(16)


def test_folders_are_walked_in_sorted_order(tmp_path: Path) -> None:
    for rel in ("b/2.png", "b/10.png", "a.pdf", "b/c/1.tif", ".hidden/x.png", "b/.y.png"):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"%PDF-1.4" if rel.endswith(".pdf") else PNG)
    found = expand_inputs([tmp_path])
    names = [p.relative_to(tmp_path).as_posix() for p in found.paths]
    assert names == ["a.pdf", "b/10.png", "b/2.png", "b/c/1.tif"]


def test_sidecars_in_folders_are_skipped_but_named_files_are_inputs(tmp_path: Path) -> None:
    (tmp_path / "scan.png").write_bytes(PNG)
    (tmp_path / "truth.jsonl").write_text('{"file": "scan.png"}\n')
    (tmp_path / "empty.png").write_bytes(b"")  # empty: an input, so it fails visibly
    found = expand_inputs([tmp_path])
    assert [p.name for p in found.paths] == ["empty.png", "scan.png"]
    assert [p.name for p in found.skipped] == ["truth.jsonl"]
    named = expand_inputs([tmp_path / "truth.jsonl", tmp_path / "missing.png"])
    assert [p.name for p in named.paths] == ["truth.jsonl", "missing.png"]


def test_symlinked_folders_are_not_followed(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.png").write_bytes(PNG)
    (tmp_path / "real" / "loop").symlink_to(tmp_path)  # would loop forever if followed
    found = expand_inputs([tmp_path])
    assert [p.relative_to(tmp_path).as_posix() for p in found.paths] == ["real/a.png"]
