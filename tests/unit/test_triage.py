"""Triage: magic bytes name the type (never the extension); every refusal has a reason code."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hdr.config import LimitsConfig
from hdr.errors import InputError, ReasonCode
from hdr.io.triage import MediaType, sniff_media_type, triage

LIMITS = LimitsConfig()


def _encoded(fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((80, 120), 200, np.uint8)).save(buf, fmt, **kw)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (_encoded("PNG"), MediaType.PNG),
        (_encoded("JPEG"), MediaType.JPEG),
        (_encoded("TIFF"), MediaType.TIFF),
        (b"MM\x00*" + bytes(12), MediaType.TIFF),  # big-endian TIFF
        (_encoded("TIFF", big_tiff=True), MediaType.TIFF),  # BigTIFF, little-endian
        (b"MM\x00+" + bytes(12), MediaType.TIFF),  # BigTIFF, big-endian
        (_encoded("PDF"), MediaType.PDF),
        (b"\r\nJUNK FROM A MAIL GATEWAY\r\n%PDF-1.4\n...", MediaType.PDF),
    ],
)
def test_magic_bytes_name_the_type(data: bytes, expected: MediaType) -> None:
    assert sniff_media_type(data) is expected
    assert triage(data, LIMITS).media_type is expected


def test_extension_is_never_trusted(tmp_path: Path) -> None:
    png_named_pdf = tmp_path / "cheque.pdf"
    png_named_pdf.write_bytes(_encoded("PNG"))
    assert triage(png_named_pdf, LIMITS).media_type is MediaType.PNG

    text_named_png = tmp_path / "cheque.png"
    text_named_png.write_text("amount: 1250.00\n")
    with pytest.raises(InputError) as err:
        triage(text_named_png, LIMITS)
    assert err.value.code is ReasonCode.UNSUPPORTED_FORMAT
    assert "text" in err.value.message


@pytest.mark.parametrize(
    ("data", "what"),
    [(b"GIF89a" + bytes(20), "GIF"), (b"PK\x03\x04" + bytes(20), "ZIP"), (bytes(range(9, 40)), "")],
)
def test_other_formats_are_unsupported_with_a_description(data: bytes, what: str) -> None:
    with pytest.raises(InputError) as err:
        triage(data, LIMITS)
    assert err.value.code is ReasonCode.UNSUPPORTED_FORMAT
    assert what in err.value.message


def test_source_carries_bytes_and_their_sha256(tmp_path: Path) -> None:
    data = _encoded("PNG")
    path = tmp_path / "a.png"
    path.write_bytes(data)
    src = triage(path, LIMITS)
    assert src.data == data
    assert src.sha256 == hashlib.sha256(data).hexdigest()
    assert src.name == str(path) and src.path == path


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(InputError) as err:
        triage(path, LIMITS)
    assert err.value.code is ReasonCode.EMPTY_FILE
    with pytest.raises(InputError) as err:
        triage(b"", LIMITS)
    assert err.value.code is ReasonCode.EMPTY_FILE


def test_too_large_is_refused_before_reading(tmp_path: Path) -> None:
    limits = LimitsConfig(max_file_bytes=1000)
    path = tmp_path / "big.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(5000))
    for source in (path, path.read_bytes()):
        with pytest.raises(InputError) as err:
            triage(source, limits)
        assert err.value.code is ReasonCode.FILE_TOO_LARGE
        assert "1,000" in err.value.message


def test_missing_file_and_broken_link(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        triage(tmp_path / "nope.png", LIMITS)
    assert err.value.code is ReasonCode.FILE_NOT_FOUND
    link = tmp_path / "dangling.png"
    link.symlink_to(tmp_path / "gone.png")
    with pytest.raises(InputError) as err:
        triage(link, LIMITS)
    assert err.value.code is ReasonCode.FILE_NOT_FOUND
    assert "broken symbolic link" in err.value.message


def test_directory_and_fifo_are_not_regular_files(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        triage(tmp_path, LIMITS)
    assert err.value.code is ReasonCode.NOT_A_REGULAR_FILE
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)  # nobody writes to it: opening it must not block the batch
    with pytest.raises(InputError) as err:
        triage(fifo, LIMITS)
    assert err.value.code is ReasonCode.NOT_A_REGULAR_FILE


def test_symlink_policy(tmp_path: Path) -> None:
    target = tmp_path / "real.png"
    target.write_bytes(_encoded("PNG"))
    link = tmp_path / "link.png"
    link.symlink_to(target)
    assert triage(link, LIMITS).media_type is MediaType.PNG  # followed by default
    with pytest.raises(InputError) as err:
        triage(link, LimitsConfig(follow_symlinks=False))
    assert err.value.code is ReasonCode.NOT_A_REGULAR_FILE
    assert "symbolic link" in err.value.message
    dir_link = tmp_path / "dirlink"
    dir_link.symlink_to(tmp_path)
    with pytest.raises(InputError) as err:
        triage(dir_link, LIMITS)
    assert err.value.code is ReasonCode.NOT_A_REGULAR_FILE


def test_permission_denied(tmp_path: Path) -> None:
    path = tmp_path / "secret.png"
    path.write_bytes(_encoded("PNG"))
    path.chmod(0)
    if os.geteuid() != 0:
        with pytest.raises(InputError) as err:
            triage(path, LIMITS)
        assert err.value.code is ReasonCode.PERMISSION_DENIED
        return
    # root reads everything: a forked child that drops to uid "nobody" tries instead.
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        answer = "no error"
        try:
            os.setuid(65534)
            triage(path, LIMITS)
        except InputError as exc:
            answer = exc.code.value
        except BaseException as exc:
            answer = repr(exc)
        os.write(write_end, answer.encode())
        os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    with os.fdopen(read_end) as fh:
        assert fh.read() == ReasonCode.PERMISSION_DENIED.value


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux /proc")
def test_io_error_while_reading_is_read_failed() -> None:
    # /proc/self/mem is a regular file whose read at offset 0 fails with EIO: a real I/O error.
    with pytest.raises(InputError) as err:
        triage(Path("/proc/self/mem"), LIMITS)
    assert err.value.code is ReasonCode.READ_FAILED


def test_every_hdr_error_is_rebuilt_whole_from_its_reduction() -> None:
    """A worker process sends its error pickled; pickling and copying rebuild it from
    ``__reduce__`` alike, so a copy shows what the parent would get (no unpickling here)."""
    import copy

    from hdr import errors

    for cls in (errors.HdrError, errors.InputError, errors.DataError, errors.UsageError):
        err = cls(errors.ReasonCode.DATA_MISSING, "MNIST not prepared", "run `hdr data fetch`")
        back = copy.deepcopy(err)
        assert type(back) is cls and str(back) == str(err) and back.code is err.code
