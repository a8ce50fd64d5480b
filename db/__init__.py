"""The results database: everything the pipeline decides, stored for review, audit and reports.

Setup (the schema is created only by the Alembic migrations in ``db/migrations``)::

    hdr db upgrade                      # or: db.migrate.upgrade(url)

URL: ``HDR_DB_URL`` (``sqlite:///path.sqlite3`` or ``postgresql+psycopg://user@host/db``),
default an SQLite file under ``HDR_DATA_DIR``. Every failure of the database comes out as
``hdr.errors.StorageError`` (``DB_UNAVAILABLE``, ``DB_ERROR``); unknown ids as
``UsageError(NOT_FOUND)``.

API overview (all functions take a ``Session`` from :func:`session_scope`, except
``store_document``, which opens its own transaction per document)::

    from db import (create_engine_from_url, session_scope, start_batch, store_document,
                    finish_batch, review_queue, set_review)

    engine = create_engine_from_url()                  # one per process
    with session_scope(engine, write=True) as s:
        batch_id = start_batch(s, source="inbox/", who="ops", model_sha256=sha,
                               config_hash=cfg_hash, model_card=card)
    for path in inputs:
        with session_scope(engine) as s:
            if already_processed(s, sha256_of(path), sha):
                ...                                    # optional: skip reading it again
        stored = store_document(engine, batch_id, read_document(path))
        # StoredDocument(document_id, result_id, created): created=False if already stored
    # or, faster on PostgreSQL, a group per transaction (all or none):
    #     store_documents(engine, batch_id, results) -> list[StoredDocument]
    with session_scope(engine, write=True) as s:
        counts = finish_batch(s, batch_id, n_inputs=len(inputs))

    with session_scope(engine) as s:                  # reading
        list_documents(s, status="review", batch_id=None, since=None, limit=100)
        get_document(s, "42" or "sha256-prefix")        # ORM Document, results loaded
        batch_summaries(s, batch_id=None)               # rows of v_batch_summary
        export_results(s, out, "csv" | "jsonl", status=..., batch_id=..., since=...)
        review_queue(s, limit=20, batch_id=None, field_name=None, after_field_id=None)
        next_for_review(s); field_crop(s, field_id)     # PNG bytes of the field
    with session_scope(engine, write=True) as s:       # a person's correction
        set_review(s, field_id, "1250.00", by="alice", note="smudged 5")

Modules: :mod:`db.models` (ORM), :mod:`db.session` (engines, sessions, error translation),
:mod:`db.migrate` (Alembic), :mod:`db.ingest` (storing results), :mod:`db.repository`
(model versions, batches), :mod:`db.queries` (reading, views), :mod:`db.review` (queue and
audit trail), :mod:`db.report` (text for the CLI), :mod:`db.testing` (throw-away databases).
"""

from typing import TYPE_CHECKING, Any

from db.queries import (
    batch_summaries,
    document_to_dict,
    export_results,
    get_document,
    iter_export_rows,
    list_documents,
)
from db.repository import (
    BatchCounts,
    StoredDocument,
    already_processed,
    batch_counts,
    content_key,
    finish_batch,
    register_model_version,
    start_batch,
    store_document,
    store_documents,
)
from db.review import (
    field_crop,
    get_field,
    next_for_review,
    normalize_value,
    review_queue,
    set_review,
)
from db.session import (
    create_engine_from_url,
    default_url,
    session_factory,
    session_scope,
    translate_errors,
)

__all__ = [
    "BatchCounts",
    "StoredDocument",
    "already_processed",
    "batch_counts",
    "batch_summaries",
    "content_key",
    "create_engine_from_url",
    "current_revision",
    "default_url",
    "document_to_dict",
    "downgrade",
    "export_results",
    "field_crop",
    "finish_batch",
    "get_document",
    "get_field",
    "head_revision",
    "iter_export_rows",
    "list_documents",
    "next_for_review",
    "normalize_value",
    "register_model_version",
    "review_queue",
    "session_factory",
    "session_scope",
    "set_review",
    "start_batch",
    "store_document",
    "store_documents",
    "translate_errors",
    "upgrade",
]

if TYPE_CHECKING:
    from db.migrate import current_revision, downgrade, head_revision, upgrade

_MIGRATE = {"current_revision", "downgrade", "head_revision", "upgrade"}


def __getattr__(name: str) -> Any:
    # Alembic is imported only when a migration function is used (`hdr results` stays quick).
    if name in _MIGRATE:
        from db import migrate

        return getattr(migrate, name)
    raise AttributeError(f"module 'db' has no attribute {name!r}")
