"""The web app's tables on SQLite and PostgreSQL: accounts, sessions, upload jobs, dual control."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update

from db import create_engine_from_url, session_scope, start_batch, store_document, upgrade
from db.dual_control import ReviewConflict, approve_field, mark_unreadable, queue_for
from db.models import Field, FieldApproval, Result, Review, WebSession, utcnow
from db.testing import backend_params, sample_result, temporary_database
from db.uploads import NewFile, claim_job, create_job, finish_job, unfinished_job_ids
from db.users import (
    add_user,
    authenticate,
    close_session,
    open_session,
    session_user,
    set_active,
    set_password,
)
from hdr.errors import UsageError

pytestmark = pytest.mark.integration
PASSWORD = "a long test passphrase"
LIMIT = Decimal("10000")


@pytest.fixture(params=backend_params())
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with temporary_database(request.param, tmp_path) as url:
        upgrade(url)
        engine = create_engine_from_url(url)
        yield engine
        engine.dispose()


def amount_field(engine: Engine, seed: int, amount: str) -> int:
    with session_scope(engine, write=True) as session:
        batch_id = start_batch(session, "inbox/", "ops", "f" * 64)
    stored = store_document(engine, batch_id, sample_result(seed, amount=amount))
    with session_scope(engine) as session:
        return session.execute(
            select(Field.id)
            .join(Result, Result.id == Field.result_id)
            .where(Result.id == stored.result_id, Field.name == "amount")
        ).scalar_one()


def test_accounts_passwords_and_sessions(engine: Engine) -> None:
    with session_scope(engine, write=True) as session:
        user = add_user(session, " Alice ", PASSWORD, "admin")
        assert (user.username, user.role) == ("alice", "admin")
        assert PASSWORD not in user.password_hash and user.password_hash.startswith("$argon2id$")
    with pytest.raises(UsageError, match="already exists"), session_scope(engine) as session:
        add_user(session, "alice", PASSWORD)
    for name, password, role in [
        ("x", PASSWORD, "reviewer"),
        ("bob", "short", "reviewer"),
        ("bob", PASSWORD, "root"),
        ("bob/../x", PASSWORD, "reviewer"),
    ]:
        with pytest.raises(UsageError), session_scope(engine) as session:
            add_user(session, name, password, role)  # fmt: skip

    with session_scope(engine, write=True) as session:
        assert authenticate(session, "alice", "wrong password") is None
        assert authenticate(session, "nobody", PASSWORD) is None
        user = authenticate(session, "ALICE", PASSWORD)
        assert user is not None and user.last_login_at is not None
        token, row = open_session(session, user, hours=1)
        assert row.token_sha256 != token and len(row.csrf_token) >= 32
    with session_scope(engine) as session:
        live = session_user(session, token)
        assert live is not None and live.user.username == "alice"
        assert session_user(session, token + "x") is None

    with session_scope(engine, write=True) as session:  # expired
        session.execute(update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    with session_scope(engine) as session:
        assert session_user(session, token) is None


def test_a_new_password_or_a_disabled_account_ends_every_session(engine: Engine) -> None:
    with session_scope(engine, write=True) as session:
        user = add_user(session, "bob", PASSWORD)
        first, _ = open_session(session, user, hours=1)
        second, _ = open_session(session, user, hours=1)
    with session_scope(engine, write=True) as session:
        close_session(session, first)
    with session_scope(engine) as session:
        assert session_user(session, first) is None and session_user(session, second) is not None
    with session_scope(engine, write=True) as session:
        set_password(session, "bob", "another long passphrase")
    with session_scope(engine, write=True) as session:
        assert session_user(session, second) is None
        assert authenticate(session, "bob", PASSWORD) is None
        user = authenticate(session, "bob", "another long passphrase")
        assert user is not None
        third, _ = open_session(session, user, hours=1)
    with session_scope(engine, write=True) as session:
        set_active(session, "bob", False)
    with session_scope(engine) as session:
        assert session_user(session, third) is None
        assert authenticate(session, "bob", "another long passphrase") is None


def test_an_amount_below_the_limit_needs_one_reviewer(engine: Engine) -> None:
    field_id = amount_field(engine, 1, "950.00")
    with session_scope(engine, write=True) as session:
        decision = approve_field(session, field_id, "950.50", by="alice", limit=LIMIT)
    assert (decision.status, decision.value, decision.approved_by) == (
        "accepted",
        "950.50",
        ("alice",),
    )
    with session_scope(engine) as session:
        field = session.get(Field, field_id)
        assert field is not None and (field.status, field.value) == ("accepted", "950.50")


@pytest.mark.parametrize(
    "read, typed", [("25000.00", "25000.00"), ("250.00", "25000.00"), ("25000.00", "250.00")]
)
def test_dual_control_when_either_the_reading_or_the_value_is_large(
    engine: Engine, read: str, typed: str
) -> None:
    """Typing a small figure over a large reading cannot skip the second pair of eyes."""
    field_id = amount_field(engine, 2, read)
    with session_scope(engine, write=True) as session:
        first = approve_field(session, field_id, typed, by="alice", limit=LIMIT)
    assert first.status == "pending_second"
    with session_scope(engine) as session:
        assert [r.field_id for r in queue_for(session, "alice")] == []
        (row,) = queue_for(session, "bob")
        assert (row.field_id, row.pending_by) == (field_id, "alice")
    with session_scope(engine, write=True) as session:
        second = approve_field(session, field_id, typed, by="bob", limit=LIMIT)
    assert second.status == "accepted" and second.approved_by == ("alice", "bob")
    with session_scope(engine) as session:
        approval = session.execute(select(FieldApproval)).scalar_one()
        assert (approval.outcome, approval.closed_by) == ("confirmed", "bob")
        result = session.execute(
            select(Result).join(Field, Field.result_id == Result.id).where(Field.id == field_id)
        ).scalar_one()
        assert result.status == "accepted"  # nothing of the document waits any more


def test_disagreeing_reviewers_restart_the_count(engine: Engine) -> None:
    field_id = amount_field(engine, 3, "48000.00")
    with session_scope(engine, write=True) as session:
        approve_field(session, field_id, "48000.00", by="alice", limit=LIMIT)
    with session_scope(engine, write=True) as session:  # bob reads another amount
        assert approve_field(session, field_id, "46000", by="bob", limit=LIMIT).status == (
            "pending_second"
        )
    with pytest.raises(ReviewConflict), session_scope(engine, write=True) as session:
        approve_field(session, field_id, "46000.00", by="bob", limit=LIMIT)
    with session_scope(engine, write=True) as session:  # alice agrees with bob's reading
        final = approve_field(session, field_id, "46000.00", by="alice", limit=LIMIT)
    assert final.status == "accepted" and final.approved_by == ("bob", "alice")
    with session_scope(engine) as session:
        outcomes = session.execute(
            select(FieldApproval.value, FieldApproval.reviewer, FieldApproval.outcome).order_by(
                FieldApproval.id
            )
        ).all()
        assert [tuple(o) for o in outcomes] == [
            ("48000.00", "alice", "superseded"),
            ("46000.00", "bob", "confirmed"),
        ]
        trail = session.execute(
            select(Review.reviewer, Review.new_value, Review.new_status)
            .where(Review.field_id == field_id)
            .order_by(Review.id)
        ).all()
        assert [tuple(t) for t in trail] == [
            ("alice", "48000.00", "review"),
            ("bob", "46000.00", "review"),
            ("alice", "46000.00", "accepted"),
        ]


def test_unreadable_rejects_the_field_and_the_document(engine: Engine) -> None:
    field_id = amount_field(engine, 4, "30000.00")
    with session_scope(engine, write=True) as session:
        approve_field(session, field_id, "30000.00", by="alice", limit=LIMIT)
    with session_scope(engine, write=True) as session:
        decision = mark_unreadable(session, field_id, by="bob", note="ink blot")
    assert decision.status == "rejected"
    with session_scope(engine) as session:
        field = session.get(Field, field_id)
        assert field is not None and (field.status, field.value) == ("rejected", None)
        assert session.get(Result, field.result_id).status == "rejected"  # type: ignore[union-attr]
        assert session.execute(select(FieldApproval.outcome)).scalar_one() == "unreadable"
    with pytest.raises(ReviewConflict), session_scope(engine, write=True) as session:
        approve_field(session, field_id, "30000.00", by="carol", limit=LIMIT)


def test_upload_jobs_are_claimed_once_and_taken_back_after_a_stop(engine: Engine) -> None:
    with session_scope(engine, write=True) as session:
        user = add_user(session, "alice", PASSWORD)
        files = [NewFile("a.png", "000-ab.png", 10, "image/png", 1, "a" * 64)]
        first = create_job(session, user, "files", "a.png", "f" * 32, files).id
        second = create_job(session, user, "files", "a.png", "e" * 32, files).id
    with session_scope(engine, write=True) as session:
        assert claim_job(session, first) is not None  # running when the app stopped
        finish_job(session, second, "failed", message="bad")
    with session_scope(engine, write=True) as session:
        assert unfinished_job_ids(session) == [first]
        finish_job(session, first, "done")
        assert claim_job(session, first) is None
