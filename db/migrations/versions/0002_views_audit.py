"""Reporting views (v_document_results, v_field_results, v_review_queue, v_batch_summary)
and the append-only guard on the review audit trail.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 01:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _field(name: str, column: str, alias: str) -> str:
    """A correlated lookup of one field of the result (first page that has it)."""
    return (
        f"(SELECT f.{column} FROM fields f WHERE f.result_id = r.id AND f.name = '{name}' "
        f"ORDER BY f.id LIMIT 1) AS {alias}"
    )


# One row per document: its current result, with the amount and account pivoted out.
V_DOCUMENT_RESULTS = f"""
CREATE VIEW v_document_results AS
SELECT d.id AS document_id, d.sha256, d.content_key, d.media_type, d.n_pages,
       r.id AS result_id, r.batch_id, mv.sha256 AS model_sha256, r.source_uri,
       r.status, r.read_status, r.reason_code, r.reason_message, r.created_at AS read_at,
       {_field("amount", "value", "amount")},
       {_field("amount", "status", "amount_status")},
       {_field("amount", "confidence", "amount_confidence")},
       {_field("account", "value", "account")},
       {_field("account", "status", "account_status")},
       {_field("account", "confidence", "account_confidence")}
FROM documents d
JOIN results r ON r.document_id = d.id AND r.is_current
JOIN model_versions mv ON mv.id = r.model_version_id
"""

# One row per field of a current result.
V_FIELD_RESULTS = """
CREATE VIEW v_field_results AS
SELECT f.id AS field_id, d.id AS document_id, r.id AS result_id, r.batch_id, d.sha256,
       r.source_uri, mv.sha256 AS model_sha256, r.status AS document_status,
       p.page_index, f.name AS field_name, f.value, f.read_value, f.confidence, f.status,
       f.read_status, f.flags, f.raw_text, f.reviewed_by, f.reviewed_at,
       r.created_at AS read_at
FROM fields f
JOIN results r ON r.id = f.result_id AND r.is_current
JOIN documents d ON d.id = r.document_id
JOIN pages p ON p.id = f.page_id
JOIN model_versions mv ON mv.id = r.model_version_id
"""

# Fields a person must look at, oldest first (ORDER BY field_id).
V_REVIEW_QUEUE = """
CREATE VIEW v_review_queue AS
SELECT f.id AS field_id, f.name AS field_name, f.value, f.confidence, f.flags, f.raw_text,
       d.id AS document_id, d.sha256, r.source_uri, r.batch_id, p.page_index,
       r.created_at AS read_at
FROM fields f
JOIN results r ON r.id = f.result_id AND r.is_current
JOIN documents d ON d.id = r.document_id
JOIN pages p ON p.id = f.page_id
WHERE f.status = 'review'
"""


def _count(condition: str) -> str:
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def _rate(condition: str) -> str:
    return f"CAST({_count(condition)} AS FLOAT) / NULLIF(COUNT(bi.id), 0)"


# Per batch: documents by the machine's decision, rates, and what is still waiting for a person.
V_BATCH_SUMMARY = f"""
CREATE VIEW v_batch_summary AS
SELECT b.id AS batch_id, b.source, b.created_by, b.started_at, b.finished_at,
       mv.sha256 AS model_sha256, b.config_hash, b.n_inputs,
       COUNT(bi.id) AS n_documents,
       {_count("bi.reused")} AS n_reused,
       {_count("r.read_status = 'accepted'")} AS n_accepted,
       {_count("r.read_status = 'review'")} AS n_review,
       {_count("r.read_status = 'rejected'")} AS n_rejected,
       {_count("r.read_status = 'error'")} AS n_error,
       {_count("r.status = 'review'")} AS n_pending_review,
       {_rate("r.read_status = 'accepted'")} AS read_rate,
       {_rate("r.read_status = 'review'")} AS review_rate,
       {_rate("r.read_status = 'error'")} AS error_rate
FROM batches b
JOIN model_versions mv ON mv.id = b.model_version_id
LEFT JOIN batch_items bi ON bi.batch_id = b.id
LEFT JOIN results r ON r.id = bi.result_id
GROUP BY b.id, b.source, b.created_by, b.started_at, b.finished_at, mv.sha256,
         b.config_hash, b.n_inputs
"""

VIEWS = {
    "v_document_results": V_DOCUMENT_RESULTS,
    "v_field_results": V_FIELD_RESULTS,
    "v_review_queue": V_REVIEW_QUEUE,
    "v_batch_summary": V_BATCH_SUMMARY,
}

APPEND_ONLY = "reviews are append-only: add a new review instead of changing one"


def upgrade() -> None:
    for sql in VIEWS.values():
        op.execute(sql)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION hdr_reviews_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER reviews_append_only BEFORE UPDATE OR DELETE ON reviews "
            "FOR EACH ROW EXECUTE FUNCTION hdr_reviews_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER reviews_no_{event.lower()} BEFORE {event} ON reviews "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER reviews_append_only ON reviews")
        op.execute("DROP FUNCTION hdr_reviews_append_only()")
    else:
        op.execute("DROP TRIGGER reviews_no_update")
        op.execute("DROP TRIGGER reviews_no_delete")
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW {name}")
