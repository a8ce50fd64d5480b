"""One exception hierarchy; every failure carries a reason code and a sentence for a person.

Modelled on OCRmyPDF: library code raises :class:`HdrError` subclasses, and the CLI is the
one place that turns them into a single line on stderr and an exit status.

>>> from hdr.errors import InputError, ReasonCode
>>> err = InputError(ReasonCode.UNSUPPORTED_FORMAT, "file is text, not an image or PDF")
>>> err.code.value
'unsupported_format'
"""

from __future__ import annotations

from enum import Enum, IntEnum


class ReasonCode(str, Enum):
    """Why an input, a page or a command failed. Stored in the database as its value."""

    # input files
    FILE_NOT_FOUND = "file_not_found"
    PERMISSION_DENIED = "permission_denied"
    NOT_A_REGULAR_FILE = "not_a_regular_file"
    EMPTY_FILE = "empty_file"
    FILE_TOO_LARGE = "file_too_large"
    READ_FAILED = "read_failed"  # an I/O error while opening or reading the file
    UNSUPPORTED_FORMAT = "unsupported_format"
    TRUNCATED_FILE = "truncated_file"
    DECODE_FAILED = "decode_failed"
    IMAGE_TOO_LARGE = "image_too_large"  # pixel count over the limit (decompression bomb)
    IMAGE_TOO_SMALL = "image_too_small"
    PDF_ENCRYPTED = "pdf_encrypted"
    PDF_NO_PAGES = "pdf_no_pages"
    TOO_MANY_PAGES = "too_many_pages"
    TIME_BUDGET_EXCEEDED = "time_budget_exceeded"
    URL_REFUSED = "url_refused"  # a URL upload: scheme, address or redirect not allowed
    # page content
    NOT_A_DOCUMENT = "not_a_document"
    BLANK_PAGE = "blank_page"
    FIELD_NOT_FOUND = "field_not_found"
    # data, model and configuration
    DATA_MISSING = "data_missing"
    DATA_HASH_MISMATCH = "data_hash_mismatch"
    DATA_UNSAFE_PICKLE = "data_unsafe_pickle"
    MODEL_MISSING = "model_missing"
    MODEL_HASH_MISMATCH = "model_hash_mismatch"
    MODEL_INVALID = "model_invalid"
    CONFIG_INVALID = "config_invalid"
    DEPENDENCY_MISSING = "dependency_missing"
    # storage and orchestration
    DB_UNAVAILABLE = "db_unavailable"
    DB_ERROR = "db_error"
    DISK_FULL = "disk_full"
    NOT_FOUND = "not_found"
    USAGE = "usage"
    INTERNAL = "internal"


class ExitCode(IntEnum):
    """Process exit statuses of the `hdr` command (one per exception family)."""

    OK = 0
    SOME_INPUTS_FAILED = 1
    USAGE = 2
    INPUT = 3
    DATA = 4
    MODEL = 5
    CONFIG = 6
    STORAGE = 7
    INTERNAL = 15


class HdrError(Exception):
    """Base of every error hdr raises on purpose.

    ``message`` is a sentence for a person; ``hint`` says what to do about it, when we know.
    """

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, code: ReasonCode, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint

    def __reduce__(self) -> tuple[type[HdrError], tuple[ReasonCode, str, str | None]]:
        # rebuilt from its own arguments: a worker process's error (a missing MNIST file in
        # `hdr synth`'s pool) reaches the parent whole, where the default pickling (message
        # alone) failed to unpickle and left the pool waiting for ever
        return (type(self), (self.code, self.message, self.hint))

    def __str__(self) -> str:
        text = f"[{self.code.value}] {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class InputError(HdrError):
    """The input file or page cannot be read: stored as status ``error``, the batch goes on."""

    exit_code = ExitCode.INPUT


class RejectedInput(HdrError):
    """The input was read but is not a bank document we can read: status ``rejected``."""

    exit_code = ExitCode.INPUT


class DataError(HdrError):
    """Training or evaluation data is missing, corrupt or unsafe."""

    exit_code = ExitCode.DATA


class ModelError(HdrError):
    """The model file is missing, corrupt, or does not match its pinned sha256."""

    exit_code = ExitCode.MODEL


class ConfigError(HdrError):
    """A configuration file or setting is invalid."""

    exit_code = ExitCode.CONFIG


class StorageError(HdrError):
    """The results database or the disk failed."""

    exit_code = ExitCode.STORAGE


class UsageError(HdrError):
    """The command was called wrongly (bad option value, unknown id)."""

    exit_code = ExitCode.USAGE
