"""The review web app through HTTP (FastAPI's TestClient), on a real migrated SQLite database.

Log in, refusal without a session (pages, crops, API), CSRF, uploads read by the app's own
worker with the real model, reviews and their audit rows, dual control, URL uploads (refused
addresses, a local test server allowed explicitly), search, the OpenAPI schema.
"""

from __future__ import annotations

import http.server
import re
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from db import create_engine_from_url, session_scope, start_batch, store_document, upgrade
from db.models import Document, Field, Result, Review, UploadFile, UploadJob
from db.testing import sample_result
from db.users import add_user
from hdr.types import Status
from web.app import create_app
from web.config import load_web_config

pytestmark = pytest.mark.integration

SAMPLE = Path(__file__).resolve().parents[1] / "resources" / "sample"
PASSWORD = "a long test passphrase"
CSRF = "X-CSRF-Token"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Engine, Path]]:
    """One migrated database with three accounts for the module; each test adds its data."""
    folder = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{folder / 'results.sqlite3'}"
    upgrade(url)
    engine = create_engine_from_url(url)
    with session_scope(engine, write=True) as session:
        add_user(session, "alice", PASSWORD, "reviewer")
        add_user(session, "bob", PASSWORD, "reviewer")
        add_user(session, "root", PASSWORD, "admin")
    yield url, engine, folder
    engine.dispose()


AppFactory = Callable[..., TestClient]


@pytest.fixture
def make_client(db: tuple[str, Engine, Path]) -> Iterator[AppFactory]:
    """TestClients of apps on the module's database, with settings overridden per test."""
    url, _engine, folder = db
    opened: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        cfg = load_web_config(**overrides)
        client = TestClient(create_app(db_url=url, config=cfg, data_dir=folder))
        client.__enter__()  # runs the lifespan: the upload worker starts
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: AppFactory) -> TestClient:
    return make_client()


def login(client: TestClient, user: str = "alice") -> str:
    """Log in through the API; the session cookie stays in the client. The CSRF token."""
    answer = client.post("/api/session", json={"username": user, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return answer.json()["csrf_token"]


def ingest(engine: Engine, *results: Any) -> tuple[int, list[int]]:
    """A batch of sample results; its id and the ids of the amount fields, in order."""
    with session_scope(engine, write=True) as session:
        batch_id = start_batch(session, "inbox/", "ops", "e" * 64)
    docs = [store_document(engine, batch_id, r).document_id for r in results]
    with session_scope(engine) as session:
        amounts = [
            session.execute(
                select(Field.id)
                .join(Result, Result.id == Field.result_id)
                .where(Result.document_id == d, Field.name == "amount")
            ).scalar_one()
            for d in docs
        ]
    return batch_id, amounts


def wait_for_job(client: TestClient, job_id: int, timeout: float = 180.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/uploads/{job_id}").json()
        if job["final"]:
            return job
        time.sleep(0.2)
    raise AssertionError(f"upload {job_id} not read within {timeout} s")


def reviews_of(engine: Engine, field_id: int) -> list[Review]:
    with session_scope(engine) as session:
        return list(
            session.execute(select(Review).where(Review.field_id == field_id).order_by(Review.id))
            .scalars()
            .all()
        )


# ---------------------------------------------------------------- sessions


@pytest.mark.parametrize(
    "path",
    ["/", "/review", "/review/1", "/upload", "/uploads/1", "/batches", "/documents",
     "/documents/1", "/users"],
)  # fmt: skip
def test_pages_redirect_to_login_without_a_session(client: TestClient, path: str) -> None:
    answer = client.get(path, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/api/fields/1/crop.png"),
        ("GET", "/api/fields/1/page.png"),
        ("GET", "/api/review/next"),
        ("GET", "/api/documents"),
        ("GET", "/api/uploads/1"),
        ("GET", "/api/openapi.json"),
        ("POST", "/api/fields/1/review"),
        ("POST", "/review/1"),
        ("POST", "/upload"),
    ],
)
def test_images_api_and_forms_answer_401_without_a_session(
    client: TestClient, method: str, path: str
) -> None:
    answer = client.request(method, path, follow_redirects=False)
    assert answer.status_code == 401
    assert answer.json()["error"] == "login_required"


def test_a_forged_or_ended_session_opens_nothing(
    db: tuple[str, Engine, Path], client: TestClient
) -> None:
    _url, engine, _ = db
    _batch, (field_id,) = ingest(engine, sample_result(101))
    client.cookies.set("hdr_session", "not-a-token-we-gave")
    assert client.get(f"/api/fields/{field_id}/crop.png").status_code == 401

    client.cookies.clear()
    csrf = login(client)
    cookie = client.cookies["hdr_session"]
    assert client.get(f"/api/fields/{field_id}/crop.png").status_code == 200
    assert client.delete("/api/session", headers={CSRF: csrf}).status_code == 204
    assert "hdr_session" not in client.cookies
    client.cookies.set("hdr_session", cookie)  # the old cookie, sent again after logout
    assert client.get(f"/api/fields/{field_id}/crop.png").status_code == 401
    assert client.get("/docs").status_code == 404  # no public schema or docs page
    assert client.get("/static/app.css").status_code == 200  # the login page needs it


def test_login_form_sets_an_httponly_samesite_cookie(client: TestClient) -> None:
    form = client.get("/login?next=/batches")
    assert form.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]

    refused = client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert refused.status_code == 403  # no CSRF token: the form did not come from our page

    wrong = client.post(
        "/login", data={"username": "alice", "password": "not it", "csrf_token": token}
    )
    assert wrong.status_code == 401 and "Wrong user name or password" in wrong.text

    token = re.search(r'name="csrf_token" value="([^"]+)"', wrong.text).group(1)  # type: ignore[union-attr]
    answer = client.post(
        "/login",
        data={"username": "alice", "password": PASSWORD, "csrf_token": token, "next": "/batches"},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/batches"
    cookie = next(v for k, v in answer.headers.multi_items() if v.startswith("hdr_session="))
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    page = client.get("/batches")
    assert page.status_code == 200 and "alice" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]


def test_login_never_redirects_off_site(client: TestClient) -> None:
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    answer = client.post(
        "/login",
        data={"username": "bob", "password": PASSWORD, "csrf_token": token,
              "next": "//evil.example/steal"},
        follow_redirects=False,
    )  # fmt: skip
    assert answer.headers["location"] == "/review"


def test_repeated_failed_logins_are_throttled(make_client: AppFactory) -> None:
    client = make_client(login_attempts=3, login_window_s=600)
    for _ in range(3):
        answer = client.post("/api/session", json={"username": "bob", "password": "guess"})
        assert answer.status_code == 401
    blocked = client.post("/api/session", json={"username": "bob", "password": PASSWORD})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    other = client.post("/api/session", json={"username": "alice", "password": PASSWORD})
    assert other.status_code == 200  # only that name from that address waits


# ---------------------------------------------------------------- CSRF


def test_state_changes_without_the_csrf_token_are_refused(
    db: tuple[str, Engine, Path], client: TestClient
) -> None:
    _url, engine, _ = db
    _batch, (field_id,) = ingest(engine, sample_result(102))
    csrf = login(client)

    no_header = client.post(f"/api/fields/{field_id}/review", json={"value": "1.00"})
    wrong = client.post(
        f"/api/fields/{field_id}/review", json={"value": "1.00"}, headers={CSRF: "x" * 43}
    )
    cross_site = client.post(
        f"/api/fields/{field_id}/review",
        json={"value": "1.00"},
        headers={CSRF: csrf, "Origin": "https://evil.example"},
    )
    form = client.post(f"/review/{field_id}", data={"value": "1.00", "action": "approve"})
    for answer in (no_header, wrong, cross_site, form):
        assert answer.status_code == 403
    assert reviews_of(engine, field_id) == []


def _state_changing_routes() -> list[tuple[str, str]]:
    from web import api, pages

    return sorted(
        (method, str(getattr(route, "path", "")))
        for router in (api.router, pages.router)
        for route in router.routes
        for method in getattr(route, "methods", set()) - {"GET", "HEAD"}
    )


# Logging in is the one change made without a session: the form has its double-submit
# cookie (test_login_form_sets_an_httponly_samesite_cookie), the API takes JSON only
# (test_the_api_login_takes_json_only).
LOGIN_ROUTES = {("POST", "/api/session"), ("POST", "/login")}
STATE_CHANGING = [r for r in _state_changing_routes() if r not in LOGIN_ROUTES]


def test_the_route_list_is_complete() -> None:
    """A guard for the test below: it walks the app's routers, which hold every form and call."""
    assert len(STATE_CHANGING) >= 10
    assert ("POST", "/api/uploads") in STATE_CHANGING and ("POST", "/users") in STATE_CHANGING
    assert set(_state_changing_routes()) >= LOGIN_ROUTES


@pytest.mark.parametrize(("method", "path"), STATE_CHANGING, ids=lambda r: str(r))
def test_every_state_change_is_refused_without_a_session_or_its_csrf_token(
    db: tuple[str, Engine, Path], client: TestClient, method: str, path: str
) -> None:
    """Every POST/PUT/DELETE route of the app, found by walking its routers (so a route added
    later without the CSRF dependency fails here): 401 without a session; 403 with a session
    but no token, a wrong token, or the right token from another site."""
    _url, engine, folder = db
    url = re.sub(r"\{[^}]+\}", "1", path)
    form = not path.startswith("/api/")
    anonymous = client.request(method, url, follow_redirects=False)
    assert anonymous.status_code == 401, anonymous.text

    csrf = login(client, "root")  # an admin: refusals here are about CSRF, not roles
    with session_scope(engine) as session:
        jobs_before = len(session.execute(select(UploadJob.id)).all())
    uploads_before = set((folder / "uploads").glob("*"))
    attempts: list[dict[str, Any]] = [{}, {"headers": {CSRF: "x" * 43}}]
    attempts.append({"headers": {CSRF: csrf, "Origin": "https://evil.example"}})
    if form:
        attempts += [
            {"data": {"csrf_token": "x" * 43}},
            {"data": {"csrf_token": csrf}, "headers": {"Origin": "https://evil.example"}},
        ]
    for attempt in attempts:
        answer = client.request(method, url, follow_redirects=False, **attempt)
        assert answer.status_code == 403, (attempt, answer.status_code, answer.text[:300])
    assert client.get("/api/session").status_code == 200  # not logged out by a forged request
    with session_scope(engine) as session:
        assert len(session.execute(select(UploadJob.id)).all()) == jobs_before
    assert set((folder / "uploads").glob("*")) == uploads_before


def test_the_api_login_takes_json_only(client: TestClient) -> None:
    """A cross-site form can post text/plain that looks like JSON; it must not log anyone in."""
    body = '{"username": "alice", "password": "' + PASSWORD + '"}'
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        answer = client.post("/api/session", content=body, headers={"Content-Type": content_type})
        assert answer.status_code == 422, answer.text
        assert "hdr_session" not in client.cookies
    assert client.get("/api/session").status_code == 401


def test_sql_in_names_and_search_values_is_only_text(
    db: tuple[str, Engine, Path], client: TestClient
) -> None:
    _url, engine, _ = db
    ingest(engine, sample_result(110, amount="31.00"))
    for user, password in [
        ("alice' --", "x"),
        ("' OR '1'='1", "' OR '1'='1"),
        ("alice", "' OR 1=1 --"),
    ]:
        answer = client.post("/api/session", json={"username": user, "password": password})
        assert answer.status_code == 401, (user, answer.text)
    login(client)
    everything = client.get("/api/documents", params={"limit": 500}).json()
    assert everything  # there are documents to leak
    for value in ["' OR '1'='1", "1; DROP TABLE documents; --", "%", "_", "31' --"]:
        answer = client.get("/api/documents", params={"value": value})
        assert answer.status_code in (200, 422), answer.text
        if answer.status_code == 200:
            found = answer.json()
            assert len(found) < len(everything), value
    assert len(client.get("/api/documents", params={"limit": 500}).json()) == len(everything)


def test_hostile_upload_names_stay_names(db: tuple[str, Engine, Path], client: TestClient) -> None:
    """The browser's file names (absolute, Windows, parent references) are shown, never used."""
    _url, engine, folder = db
    csrf = login(client)
    blank = (SAMPLE.parent / "bad" / "blank_page.png").read_bytes()
    names = ["/etc/cron.d/x.png", "C:\\Windows\\x.png", "..\\..\\y.png", "../../../z.png"]
    files = [("files", (name, blank, "image/png")) for name in names]
    answer = client.post("/api/uploads", files=files, headers={CSRF: csrf})
    assert answer.status_code == 201, answer.text
    job = wait_for_job(client, answer.json()["job_id"])
    assert [f["name"] for f in job["files"]] == ["x.png", "x.png", "y.png", "z.png"]
    with session_scope(engine) as session:
        stored = session.execute(
            select(UploadFile.stored_name).where(UploadFile.job_id == job["job_id"])
        ).scalars()
        for name in stored:
            assert re.fullmatch(r"\d{3}-[0-9a-f]{16}\.png", name)
    for path in (folder / "uploads").rglob("*"):
        assert path.resolve().is_relative_to((folder / "uploads").resolve())
    assert not Path("/etc/cron.d/x.png").exists()


# ---------------------------------------------------------------- uploads


def test_uploaded_files_are_read_and_stored(
    db: tuple[str, Engine, Path], client: TestClient
) -> None:
    _url, engine, folder = db
    csrf = login(client)
    files = [
        ("files", ("doc_0002.png", (SAMPLE / "doc_0002.png").read_bytes(), "image/png")),
        ("files", ("../../etc/cheque.tif", (SAMPLE / "doc_0004.tif").read_bytes(), "image/tiff")),
    ]
    answer = client.post("/api/uploads", files=files, headers={CSRF: csrf})
    assert answer.status_code == 201, answer.text
    job = wait_for_job(client, answer.json()["job_id"])

    assert job["status"] == "done" and job["n_read"] == 2
    assert [f["name"] for f in job["files"]] == ["doc_0002.png", "cheque.tif"]
    assert all(f["status"] in ("accepted", "review", "rejected") for f in job["files"])
    with session_scope(engine) as session:
        upload = session.get(UploadJob, job["job_id"])
        assert upload is not None and upload.batch_id == job["batch_id"]
        stored = session.execute(
            select(UploadFile.stored_name, Document.source_uri)
            .join(Document, Document.id == UploadFile.document_id)
            .where(UploadFile.job_id == upload.id)
            .order_by(UploadFile.position)
        ).all()
    for stored_name, source_uri in stored:
        path = Path(source_uri)
        assert path.name == stored_name and ".." not in stored_name
        assert path.parent.parent == folder / "uploads" and path.is_file()

    status = client.get(f"/uploads/{job['job_id']}/status")
    assert status.headers["x-job-final"] == "1" and "2 of 2" in status.text
    documents = client.get("/api/documents", params={"batch_id": job["batch_id"]}).json()
    assert sorted(d["name"] for d in documents) == ["cheque.tif", "doc_0002.png"]


@pytest.mark.parametrize(
    "overrides, files, status, code",
    [
        ({}, [("notes.png", b"just some text, not an image")], 415, "unsupported_format"),
        ({}, [("empty.pdf", b"")], 422, "empty_file"),
        ({"max_files": 2}, [("a.png", b"x"), ("b.png", b"x"), ("c.png", b"x")], 422, "usage"),
        ({"max_file_bytes": 4096}, [("doc_0002.png", "doc_0002.png")], 413, "file_too_large"),
        ({"max_pages": 1}, [("doc_0006.pdf", "doc_0006.pdf")], 413, "too_many_pages"),
        ({"max_files": 1, "max_file_bytes": 65536}, [("doc_0008.png", "doc_0008.png")], 413,
         "file_too_large"),  # over the whole request's limit: refused before it is read
    ],
)  # fmt: skip
def test_uploads_outside_the_limits_are_refused(
    db: tuple[str, Engine, Path],
    make_client: AppFactory,
    overrides: dict[str, int],
    files: list[tuple[str, Any]],
    status: int,
    code: str,
) -> None:
    _url, engine, folder = db
    client = make_client(**overrides)
    csrf = login(client)
    with session_scope(engine) as session:
        jobs_before = len(session.execute(select(UploadJob.id)).all())
    folders_before = set((folder / "uploads").glob("*"))
    parts = [
        ("files", (name, (SAMPLE / data).read_bytes() if isinstance(data, str) else data))
        for name, data in files
    ]
    answer = client.post("/api/uploads", files=parts, headers={CSRF: csrf})
    assert answer.status_code == status, answer.text
    assert answer.json()["error"] == code
    with session_scope(engine) as session:
        assert len(session.execute(select(UploadJob.id)).all()) == jobs_before
    assert set((folder / "uploads").glob("*")) == folders_before  # nothing left behind


# ---------------------------------------------------------------- review and dual control


def test_a_review_through_the_api_writes_an_audit_row(
    db: tuple[str, Engine, Path], client: TestClient
) -> None:
    _url, engine, _ = db
    _batch, (field_id,) = ingest(engine, sample_result(103, amount="315.20"))
    csrf = login(client, "alice")

    bad = client.post(f"/api/fields/{field_id}/review", json={"value": "3l5"}, headers={CSRF: csrf})
    assert bad.status_code == 422 and bad.json()["error"] == "usage"
    answer = client.post(
        f"/api/fields/{field_id}/review",
        json={"value": "315,25", "note": "last digit is a 5"},
        headers={CSRF: csrf},
    )
    assert answer.status_code == 200
    assert answer.json()["status"] == "accepted" and answer.json()["value"] == "315.25"

    (review,) = reviews_of(engine, field_id)
    assert (review.old_value, review.new_value, review.reviewer) == ("315.20", "315.25", "alice")
    assert (review.old_status, review.new_status, review.note) == (
        "review", "accepted", "last digit is a 5",
    )  # fmt: skip
    field = client.get(f"/api/fields/{field_id}").json()
    assert field["status"] == "accepted" and field["reviews"][0]["reviewer"] == "alice"
    again = client.post(f"/api/fields/{field_id}/review", json={"value": "1"}, headers={CSRF: csrf})
    assert again.status_code == 409  # no longer waiting for review


def test_the_review_form_marks_a_field_unreadable(
    db: tuple[str, Engine, Path], client: TestClient
) -> None:
    _url, engine, _ = db
    _batch, (field_id,) = ingest(engine, sample_result(104))
    csrf = login(client, "bob")
    page = client.get(f"/review/{field_id}")
    assert page.status_code == 200
    assert f"/api/fields/{field_id}/crop.png" in page.text and "<kbd>Enter</kbd>" in page.text

    answer = client.post(
        f"/review/{field_id}",
        data={"csrf_token": csrf, "action": "unreadable", "value": ""},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and f"after={field_id}" in answer.headers["location"]
    (review,) = reviews_of(engine, field_id)
    assert (review.new_status, review.new_value, review.note) == ("rejected", None, "unreadable")
    with session_scope(engine) as session:
        field = session.get(Field, field_id)
        assert field is not None and field.status == "rejected"
        result = session.get(Result, field.result_id)
        assert result is not None and result.status == "rejected"
    shown = client.get(answer.headers["location"])
    assert f"Field {field_id}:" in shown.text and "marked unreadable" in shown.text


def test_large_amounts_need_a_second_reviewer(
    db: tuple[str, Engine, Path], make_client: AppFactory
) -> None:
    _url, engine, _ = db
    batch_id, (field_id,) = ingest(engine, sample_result(105, amount="25000.00"))
    alice, bob = make_client(dual_control_limit=Decimal("10000")), make_client()
    alice_csrf, bob_csrf = login(alice, "alice"), login(bob, "bob")

    first = alice.post(
        f"/api/fields/{field_id}/review", json={"value": "25000.00"}, headers={CSRF: alice_csrf}
    ).json()
    assert first["status"] == "pending_second" and first["approved_by"] == ["alice"]
    assert alice.get(f"/api/fields/{field_id}").json()["status"] == "review"
    twice = alice.post(
        f"/api/fields/{field_id}/review", json={"value": "25000.00"}, headers={CSRF: alice_csrf}
    )
    assert twice.status_code == 409
    # alice's queue skips the field she approved; bob's shows it, without her value
    assert alice.get("/api/review/next", params={"batch_id": batch_id}).status_code == 204
    waiting = bob.get("/api/review/next", params={"batch_id": batch_id}).json()
    assert waiting["field_id"] == field_id
    assert waiting["pending_approval"] == {
        "reviewer": "alice", "at": waiting["pending_approval"]["at"], "value": None,
    }  # fmt: skip

    second = bob.post(
        f"/api/fields/{field_id}/review", json={"value": "25000.00"}, headers={CSRF: bob_csrf}
    ).json()
    assert second["status"] == "accepted" and second["approved_by"] == ["alice", "bob"]
    trail = reviews_of(engine, field_id)
    assert [(r.reviewer, r.new_value, r.new_status) for r in trail] == [
        ("alice", "25000.00", "review"),
        ("bob", "25000.00", "accepted"),
    ]
    assert "first by alice" in (trail[1].note or "")


def test_the_review_queue_page_and_the_next_field(
    db: tuple[str, Engine, Path], client: TestClient
) -> None:
    _url, engine, _ = db
    batch_id, fields = ingest(engine, sample_result(106), sample_result(107))
    login(client, "root")
    first = client.get("/review", params={"batch": batch_id})
    assert f"field {fields[0]}" in first.text and "2</strong> fields waiting" in first.text
    assert "Read whole, without cutting it into glyphs: <code>" in first.text  # the line reader
    skipped = client.get("/review", params={"batch": batch_id, "after": fields[0]})
    assert f"field {fields[1]}" in skipped.text
    wrapped = client.get("/review", params={"batch": batch_id, "after": fields[1]})
    assert f"field {fields[0]}" in wrapped.text  # past the end, the queue starts again
    crop = client.get(f"/api/fields/{fields[0]}/crop.png")
    assert crop.headers["content-type"] == "image/png" and crop.content[:4] == b"\x89PNG"
    missing = client.get(f"/api/fields/{fields[0]}/page.png")
    assert missing.status_code == 404 and missing.json()["error"] == "file_not_found"


def _page_view(engine: Engine, client: TestClient, result: Any) -> Any:
    """The review app's page view of ``result``'s amount field, stored first, decoded (BGR);
    asserts that the amount's box is outlined (orange) where the result says, on the page as
    it was read."""
    import cv2
    import numpy as np

    ingest(engine, result)
    login(client, "root")
    with session_scope(engine) as session:
        field_id = session.execute(
            select(Field.id)
            .join(Result, Result.id == Field.result_id)
            .join(Document, Document.id == Result.document_id)
            .where(Document.sha256 == result.sha256, Field.name == "amount")
        ).scalar_one()
    reply = client.get(f"/api/fields/{field_id}/page.png")
    assert reply.status_code == 200, reply.text
    drawn = cv2.imdecode(np.frombuffer(reply.content, np.uint8), cv2.IMREAD_COLOR)
    page = result.pages[0]
    height, width = drawn.shape[:2]
    assert width / height == pytest.approx(page.width / page.height, rel=0.02)  # as read
    x0, y0, x1, y1 = page.fields["amount"].box
    scale = width / page.width
    ys, xs = np.nonzero((drawn[:, :, 2] > 200) & (drawn[:, :, 0] < 60))
    assert xs.min() <= x0 * scale and xs.max() >= x1 * scale - 1
    assert ys.min() <= y0 * scale and ys.max() >= y1 * scale - 1
    return drawn


def test_the_page_of_a_turned_scan_is_drawn_as_it_was_read(
    db: tuple[str, Engine, Path], client: TestClient, tmp_path: Path
) -> None:
    """A cheque scanned a quarter turn off is read turned upright (hdr.preprocess.orient);
    the page view draws it upright too, the field's box where the field is."""
    import numpy as np
    from PIL import Image

    from hdr.pipeline import read_document
    from hdr.preprocess.orient import turn_image

    _url, engine, _ = db
    with Image.open(SAMPLE / "doc_0015.jpg") as img:
        dpi, upright = img.info["dpi"], np.asarray(img)
    path = tmp_path / "sideways.png"
    Image.fromarray(np.ascontiguousarray(turn_image(upright, 90))).save(path, dpi=dpi)
    result = read_document(path)
    assert "page_turned_270" in result.pages[0].reasons
    height, width = _page_view(engine, client, result).shape[:2]
    assert width > 2 * height  # a cheque lies wide, as it was read, not as it was scanned


def test_the_page_of_a_cheque_scanned_on_a_sideways_a4_sheet_is_its_part_upright(
    db: tuple[str, Engine, Path], client: TestClient, tmp_path: Path
) -> None:
    """Cut to its ink, then turned (hdr.preprocess.extent, hdr.preprocess.orient): the page
    view draws that part, upright, the amount's box on it."""
    import numpy as np
    from PIL import Image

    from hdr.pipeline import read_document
    from hdr.preprocess.orient import turn_image
    from hdr.synth import SynthOptions, generate

    _url, engine, _ = db
    options = SynthOptions(
        n=1, seed=5181, formats=("png",), clean=True, hard_share=0.0, unseen_share=1.0, workers=1
    )
    (record,) = generate(tmp_path / "synth", options)
    with Image.open(tmp_path / "synth" / record.file) as img:
        dpi, cheque = img.info["dpi"], np.asarray(img.convert("RGB"))
    sheet = np.full((round(11.69 * dpi[1]), round(8.27 * dpi[0]), 3), 255, np.uint8)
    sheet[90 : 90 + cheque.shape[0], 30 : 30 + cheque.shape[1]] = cheque
    path = tmp_path / "flatbed.png"
    Image.fromarray(np.ascontiguousarray(turn_image(sheet, 90))).save(path, dpi=dpi)
    result = read_document(path)
    reasons = result.pages[0].reasons
    assert "page_turned_270" in reasons and any(r.startswith("page_cropped:") for r in reasons)
    height, width = _page_view(engine, client, result).shape[:2]
    assert width > 1.8 * height  # the cheque alone, upright, not the A4 sheet


# ---------------------------------------------------------------- URL uploads


class _Sample(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []
    redirects: ClassVar[dict[str, str]] = {}

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        if self.path in self.redirects:
            self.send_response(302)
            self.send_header("Location", self.redirects[self.path])
            self.end_headers()
            return
        body = (SAMPLE / "doc_0002.png").read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def sample_server() -> Iterator[int]:
    """A local HTTP server on 127.0.0.1 serving doc_0002.png (and redirects); its port."""
    _Sample.hits, _Sample.redirects = [], {}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Sample)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    "url, code",
    [
        ("http://127.0.0.1:{port}/cheque.png", "url_refused"),
        ("http://localhost:{port}/cheque.png", "url_refused"),
        ("http://10.0.0.7/cheque.png", "url_refused"),
        ("http://169.254.169.254/latest/meta-data/", "url_refused"),
        ("http://[::1]:{port}/cheque.png", "url_refused"),
        ("ftp://example.com/cheque.png", "url_refused"),
        ("file:///etc/passwd", "url_refused"),
        ("http://user:secret@example.com/cheque.png", "url_refused"),
    ],
)
def test_url_uploads_into_private_ranges_are_refused(
    client: TestClient, sample_server: int, url: str, code: str
) -> None:
    csrf = login(client)
    answer = client.post(
        "/api/uploads/url", json={"url": url.format(port=sample_server)}, headers={CSRF: csrf}
    )
    assert answer.status_code == 400 and answer.json()["error"] == code
    assert _Sample.hits == []  # refused before any connection


def test_url_upload_from_an_allowed_server_and_its_redirects(
    make_client: AppFactory, sample_server: int
) -> None:
    allowed = f"127.0.0.1:{sample_server}"
    client = make_client(url_allow_hosts=[allowed])
    csrf = login(client)
    _Sample.redirects = {
        "/moved": "/cheque.png",
        "/to-metadata": "http://169.254.169.254/latest/meta-data/",
        "/to-other-port": "http://127.0.0.1:9/cheque.png",
    }
    answer = client.post(
        "/api/uploads/url", json={"url": f"http://{allowed}/moved"}, headers={CSRF: csrf}
    )
    assert answer.status_code == 201, answer.text
    job = wait_for_job(client, answer.json()["job_id"])
    assert job["status"] == "done" and job["kind"] == "url"
    assert job["files"][0]["name"] == "cheque.png" and job["files"][0]["document_id"]
    assert _Sample.hits == ["/moved", "/cheque.png"]

    for path in ("/to-metadata", "/to-other-port"):
        refused = client.post(
            "/api/uploads/url", json={"url": f"http://{allowed}{path}"}, headers={CSRF: csrf}
        )
        assert refused.status_code == 400 and refused.json()["error"] == "url_refused"
    small = make_client(url_allow_hosts=[allowed], url_max_bytes=4096)
    too_big = small.post(
        "/api/uploads/url",
        json={"url": f"http://{allowed}/cheque.png"},
        headers={CSRF: login(small)},
    )
    assert too_big.status_code == 413 and too_big.json()["error"] == "file_too_large"


# ---------------------------------------------------------------- search, users, schema


def test_search_by_value_status_batch_and_day(
    db: tuple[str, Engine, Path], client: TestClient
) -> None:
    _url, engine, _ = db
    batch_id, _ = ingest(
        engine,
        sample_result(108, amount="777.70", account="0099887766"),
        sample_result(109, status=Status.ACCEPTED, amount="12.00"),
    )
    login(client)
    by_amount = client.get("/api/documents", params={"value": "777,7"}).json()
    assert [d["amount"] for d in by_amount] == ["777.70"]
    by_account = client.get("/api/documents", params={"value": "0099-887"}).json()
    assert [d["account"] for d in by_account] == ["0099887766"]
    accepted = client.get("/api/documents", params={"batch_id": batch_id, "status": "accepted"})
    assert [d["amount"] for d in accepted.json()] == ["12.00"]
    today = by_amount[0]["read_at"][:10]
    assert (
        len(client.get("/api/documents", params={"batch_id": batch_id, "since": today}).json()) == 2
    )
    assert client.get("/api/documents", params={"until": "2000-01-01"}).json() == []
    page = client.get("/documents", params={"value": "777.70"})
    assert "777.70" in page.text and "0099887766" in page.text
    bad = client.get("/documents", params={"since": "yesterday"})
    assert "is not a date" in bad.text


def test_only_admins_manage_users(client: TestClient, make_client: AppFactory) -> None:
    csrf = login(client, "alice")
    assert client.get("/users").status_code == 403
    refused = client.post(
        "/api/users", json={"username": "carol", "password": PASSWORD}, headers={CSRF: csrf}
    )
    assert refused.status_code == 403
    admin = make_client()
    admin_csrf = login(admin, "root")
    made = admin.post(
        "/api/users", json={"username": "carol", "password": PASSWORD}, headers={CSRF: admin_csrf}
    )
    assert made.status_code == 201 and made.json() == {
        "username": "carol", "role": "reviewer", "active": True,
    }  # fmt: skip
    assert login(make_client(), "carol")


def test_openapi_schema_lists_the_endpoints(client: TestClient) -> None:
    login(client)
    schema = client.get("/api/openapi.json").json()
    assert schema["info"]["title"] == "hdr review"
    expected = {
        "/api/session": {"get", "post", "delete"},
        "/api/uploads": {"post"},
        "/api/uploads/url": {"post"},
        "/api/uploads/{job_id}": {"get"},
        "/api/review/next": {"get"},
        "/api/fields/{field_id}": {"get"},
        "/api/fields/{field_id}/review": {"post"},
        "/api/fields/{field_id}/unreadable": {"post"},
        "/api/fields/{field_id}/crop.png": {"get"},
        "/api/fields/{field_id}/page.png": {"get"},
        "/api/documents": {"get"},
        "/api/documents/{key}": {"get"},
        "/api/batches": {"get"},
        "/api/batches/{batch_id}": {"get"},
        "/api/users": {"get", "post"},
    }
    assert {path: set(ops) for path, ops in schema["paths"].items()} == expected
    assert "/review" not in schema["paths"]  # pages are not part of the API
