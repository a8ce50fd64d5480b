"""SQLAlchemy 2 typed ORM models of the results database.

The schema itself is created only by the Alembic migrations in ``db/migrations``; these
classes describe it for the repository (``tests/integration/test_db_migrations.py`` checks
that the two agree).

One input file is one :class:`Document` (unique by content: its sha256). Every time it is
read by a model version it gets one :class:`Result` (unique per document and model version),
with its :class:`Page` rows, their :class:`Field` rows and each field's :class:`Glyph` rows.
A :class:`Batch` is one run of the pipeline; :class:`BatchItem` says which documents it saw.
:class:`Review` is the append-only audit trail of what people changed.

Values a person may change (``Field.value``, ``Field.status``, ``Result.status``) sit beside
what the machine decided (``read_value``, ``read_status``), which never changes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

STATUS_LEN = 16  # accepted | review | rejected | error
SHA256_LEN = 64


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive, in UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class ModelVersion(Base):
    """A classifier model, known by the sha256 of its file; ``card`` is its model card."""

    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(SHA256_LEN), unique=True)
    card: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Batch(Base):
    """One run of the pipeline over a set of inputs; counts are filled by ``finish_batch``."""

    __tablename__ = "batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(Text)  # folder, glob or URI the inputs came from
    created_by: Mapped[str] = mapped_column(String(128))
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"))
    config_hash: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    n_inputs: Mapped[int | None]  # as counted by the caller (files found)
    n_documents: Mapped[int | None]  # batch items stored
    n_accepted: Mapped[int | None]
    n_review: Mapped[int | None]
    n_rejected: Mapped[int | None]
    n_error: Mapped[int | None]

    model_version: Mapped[ModelVersion] = relationship()


class Document(Base):
    """One input file, unique by ``content_key`` (its sha256, or a marker for unreadable files)."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    # sha256 of the bytes; for a file that could not be read at all, "nocontent:" + sha256 of
    # its source, so that the failure is stored (once) like any other input.
    content_key: Mapped[str] = mapped_column(String(80), unique=True)
    sha256: Mapped[str | None] = mapped_column(String(SHA256_LEN), index=True)
    source_uri: Mapped[str] = mapped_column(Text)
    media_type: Mapped[str | None] = mapped_column(String(64))
    n_pages: Mapped[int | None]
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    results: Mapped[list[Result]] = relationship(
        back_populates="document", order_by="Result.id", viewonly=True
    )


class Result(Base):
    """What one model version read in one document. The newest one is ``is_current``."""

    __tablename__ = "results"
    __table_args__ = (
        UniqueConstraint("document_id", "model_version_id"),
        # at most one current result per document, enforced by the database
        Index(
            "uq_results_current_document",
            "document_id",
            unique=True,
            sqlite_where=text("is_current"),
            postgresql_where=text("is_current"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(STATUS_LEN), index=True)
    read_status: Mapped[str] = mapped_column(String(STATUS_LEN))
    reason_code: Mapped[str | None] = mapped_column(String(64))
    reason_message: Mapped[str | None] = mapped_column(Text)
    source_uri: Mapped[str] = mapped_column(Text)  # where the file was when this was read
    timings: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    document: Mapped[Document] = relationship(back_populates="results")
    model_version: Mapped[ModelVersion] = relationship()
    batch: Mapped[Batch] = relationship()
    pages: Mapped[list[Page]] = relationship(order_by="Page.page_index", viewonly=True)
    fields: Mapped[list[Field]] = relationship(order_by="Field.id", viewonly=True)


class BatchItem(Base):
    """A document seen by a batch: freshly read (``reused`` false) or already read before."""

    __tablename__ = "batch_items"
    __table_args__ = (UniqueConstraint("batch_id", "document_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    result_id: Mapped[int] = mapped_column(ForeignKey("results.id", ondelete="CASCADE"), index=True)
    reused: Mapped[bool] = mapped_column(Boolean, default=False)
    source_uri: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Page(Base):
    __tablename__ = "pages"
    __table_args__ = (UniqueConstraint("result_id", "page_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("results.id", ondelete="CASCADE"))
    page_index: Mapped[int] = mapped_column(Integer)  # 0-based, as in PageResult.index
    status: Mapped[str] = mapped_column(String(STATUS_LEN))
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    layout: Mapped[str | None] = mapped_column(Text)
    width: Mapped[int | None]
    height: Mapped[int | None]


class Field(Base):
    """A field read on a page: current ``value``/``status`` and the machine's ``read_*``."""

    __tablename__ = "fields"
    __table_args__ = (
        # the review queue: WHERE status = 'review' ORDER BY id
        Index("ix_fields_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("results.id", ondelete="CASCADE"), index=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    value: Mapped[str | None] = mapped_column(Text)  # amounts as text: "1250.00", never floats
    read_value: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(STATUS_LEN))
    read_status: Mapped[str] = mapped_column(String(STATUS_LEN))
    flags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    box: Mapped[list[Any] | None] = mapped_column(JSON)  # [x0, y0, x1, y1] in page pixels
    located_by: Mapped[str | None] = mapped_column(Text)
    raw_text: Mapped[str] = mapped_column(Text, default="")
    # the line reader's reading of the field ("?" for a reject) and its path probability,
    # when one was configured (hdr.classify.lines)
    line_text: Mapped[str | None] = mapped_column(Text)
    line_confidence: Mapped[float | None] = mapped_column(Float)
    crop_png: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(128))
    reviewed_at: Mapped[datetime | None]

    result: Mapped[Result] = relationship(viewonly=True)
    page: Mapped[Page] = relationship(viewonly=True)
    glyphs: Mapped[list[Glyph]] = relationship(order_by="Glyph.position", viewonly=True)
    reviews: Mapped[list[Review]] = relationship(order_by="Review.id", viewonly=True)


class Glyph(Base):
    __tablename__ = "glyphs"
    __table_args__ = (UniqueConstraint("field_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    field_id: Mapped[int] = mapped_column(ForeignKey("fields.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)  # left to right
    label: Mapped[str] = mapped_column(String(32))
    prob: Mapped[float] = mapped_column(Float)
    topk: Mapped[list[Any]] = mapped_column(JSON)  # [[label, prob], ...] best first
    box: Mapped[list[Any]] = mapped_column(JSON)  # [x0, y0, x1, y1] in field-crop pixels
    split: Mapped[bool] = mapped_column(Boolean, default=False)
    cell: Mapped[int | None]


class Review(Base):
    """One change a person made to a field. Append-only: the database refuses UPDATE/DELETE."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    field_id: Mapped[int] = mapped_column(ForeignKey("fields.id"), index=True)
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    old_status: Mapped[str] = mapped_column(String(STATUS_LEN))
    new_status: Mapped[str] = mapped_column(String(STATUS_LEN))
    reviewer: Mapped[str] = mapped_column(String(128))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


# ---------------------------------------------------------------- review web app (issue 8)
# Created by the migration 0003; used by db.users, db.uploads, db.dual_control and web/.


class User(Base):
    """A person who may log in to the review web app: a ``reviewer`` or an ``admin``."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)  # argon2id (pwdlib), never the password
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]


class WebSession(Base):
    """A logged-in browser: the cookie holds a random token, the table only its sha256."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(SHA256_LEN), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()


class UploadJob(Base):
    """Files a person sent through the web app, and how far their processing got."""

    __tablename__ = "upload_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_by: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))  # files | url
    source: Mapped[str] = mapped_column(Text)  # the URL, or the names of the files sent
    folder: Mapped[str] = mapped_column(String(64), unique=True)  # server-generated name
    status: Mapped[str] = mapped_column(String(STATUS_LEN), index=True)  # queued ... done
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"))
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    files: Mapped[list[UploadFile]] = relationship(order_by="UploadFile.position", viewonly=True)


class UploadFile(Base):
    """One file of an upload job; ``document_id`` and ``status`` once it was read."""

    __tablename__ = "upload_files"
    __table_args__ = (UniqueConstraint("job_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("upload_jobs.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    original_name: Mapped[str] = mapped_column(Text)  # as sent: shown, never used as a path
    stored_name: Mapped[str] = mapped_column(String(80))
    size_bytes: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(64))
    n_pages: Mapped[int | None]
    sha256: Mapped[str] = mapped_column(String(SHA256_LEN))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    status: Mapped[str | None] = mapped_column(String(STATUS_LEN))
    reason_code: Mapped[str | None] = mapped_column(String(64))


class FieldApproval(Base):
    """Dual control: a reviewer's approval of an amount above the limit, waiting for a second.

    At most one approval per field is open (``closed_at`` null); it closes ``confirmed`` when
    a different reviewer approves the same value, ``superseded`` when someone approves
    another value (which opens a new one), or ``unreadable``.
    """

    __tablename__ = "field_approvals"
    __table_args__ = (
        Index(
            "uq_field_approvals_open_field",
            "field_id",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    field_id: Mapped[int] = mapped_column(ForeignKey("fields.id"), index=True)
    value: Mapped[str] = mapped_column(Text)
    reviewer: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(128))
    outcome: Mapped[str | None] = mapped_column(String(16))  # confirmed | superseded | unreadable
