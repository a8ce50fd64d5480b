"""The pages: log in, review queue, upload, batch status, search, document history, users.

Forms post back with the session's CSRF token; a successful post redirects (303), so a
reload never sends it twice. Every page needs a live session except ``/login``.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from db import batch_summaries, session_scope
from db.models import Review
from db.uploads import list_jobs
from db.users import add_user, authenticate, close_session, list_users, open_session
from hdr.errors import HdrError
from web import history, services
from web.deps import AdminViewer, Ctx, FormViewer, PageViewer
from web.errors import form_error, http_status
from web.security import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Viewer,
    check_login_csrf,
    new_login_csrf,
    set_cookie,
    viewer_or_none,
)
from web.templating import templates

router = APIRouter(include_in_schema=False)


def render(
    request: Request, name: str, viewer: Viewer | None, status: int = 200, **context: Any
) -> Response:
    return templates.TemplateResponse(
        request, name, {"viewer": viewer, **context}, status_code=status
    )


def redirect(path: str, **query: Any) -> RedirectResponse:
    params = {k: v for k, v in query.items() if v not in (None, "")}
    return RedirectResponse(path + (f"?{urlencode(params)}" if params else ""), status_code=303)


def _safe_next(target: str | None) -> str:
    """Only a path of this site (no scheme, no //host): never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/review"


# ---------------------------------------------------------------- log in / out


@router.get("/login")
def login_form(request: Request, ctx: Ctx, next: str | None = None) -> Response:
    if viewer_or_none(request) is not None:
        return redirect(_safe_next(next))
    return _login_page(request, ctx, next)


def _login_page(
    request: Request, ctx: Ctx, next: str | None, error: str | None = None, status: int = 200
) -> Response:
    token = new_login_csrf()
    response = render(
        request, "login.html", None, status, login_csrf=token, next=_safe_next(next), error=error
    )
    set_cookie(response, LOGIN_CSRF_COOKIE, token, 3600, ctx.cfg.secure_cookies)
    return response


@router.post("/login")
def login(
    request: Request,
    ctx: Ctx,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/review",
) -> Response:
    check_login_csrf(request, csrf_token)
    address = request.client.host if request.client else "?"
    wait = ctx.throttle.wait_seconds(username, address)
    if wait:
        message = f"Too many failed attempts: try again in {wait:.0f} seconds."
        return _login_page(request, ctx, next, message, 429)
    with session_scope(ctx.engine, write=True) as session:
        user = authenticate(session, username, password)
        if user is None:
            ctx.throttle.failed(username, address)
            return _login_page(request, ctx, next, "Wrong user name or password.", 401)
        token, _row = open_session(session, user, ctx.cfg.session_hours)
    ctx.throttle.succeeded(username, address)
    response = redirect(_safe_next(next))
    set_cookie(
        response, SESSION_COOKIE, token, int(ctx.cfg.session_hours * 3600), ctx.cfg.secure_cookies
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(request: Request, viewer: FormViewer, ctx: Ctx) -> Response:
    with session_scope(ctx.engine, write=True) as session:
        close_session(session, request.cookies.get(SESSION_COOKIE))
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
def home(viewer: PageViewer) -> Response:
    return redirect("/review")


# ---------------------------------------------------------------- review


def _filters(batch: int | None, field: str | None) -> dict[str, Any]:
    return {"batch": batch, "field": field if field in ("amount", "account") else None}


@router.get("/review")
def review_next(
    request: Request,
    viewer: PageViewer,
    ctx: Ctx,
    after: int | None = None,
    batch: int | None = None,
    field: str | None = None,
    last: int | None = None,
) -> Response:
    filters = _filters(batch, field)
    with session_scope(ctx.engine) as session:
        field_id = services.next_field_id(
            session, viewer, after, filters["batch"], filters["field"]
        )
        if field_id is None:
            return render(
                request,
                "review.html",
                viewer,
                item=None,
                last=_last_review(session, last, viewer),
                waiting=services.queue_size(session, filters["batch"], filters["field"]),
                filters=filters,
            )
    return _review_page(request, viewer, ctx, field_id, filters, last=last)


@router.get("/review/{field_id}")
def review_one(
    request: Request,
    field_id: int,
    viewer: PageViewer,
    ctx: Ctx,
    batch: int | None = None,
    field: str | None = None,
    last: int | None = None,
) -> Response:
    return _review_page(request, viewer, ctx, field_id, _filters(batch, field), last=last)


def _last_review(session: Any, review_id: int | None, viewer: Viewer) -> dict[str, Any] | None:
    """The person's previous action, shown above the next field (only their own)."""
    if review_id is None:
        return None
    review = session.get(Review, review_id)
    if review is None or review.reviewer != viewer.username:
        return None
    return {
        "field_id": review.field_id,
        "new_value": review.new_value,
        "new_status": review.new_status,
        "note": review.note,
    }


def _review_page(
    request: Request,
    viewer: Viewer,
    ctx: Ctx,
    field_id: int,
    filters: dict[str, Any],
    *,
    last: int | None = None,
    error: str | None = None,
    typed: str | None = None,
    status: int = 200,
) -> Response:
    with session_scope(ctx.engine) as session:
        item = services.field_view(session, field_id, viewer, ctx.cfg)
        return render(
            request,
            "review.html",
            viewer,
            status,
            item=item,
            last=_last_review(session, last, viewer),
            waiting=services.queue_size(session, filters["batch"], filters["field"]),
            filters=filters,
            error=error,
            typed=typed if typed is not None else (item["value"] or ""),
        )


@router.post("/review/{field_id}")
def review_submit(
    request: Request,
    field_id: int,
    viewer: FormViewer,
    ctx: Ctx,
    action: Annotated[str, Form()] = "approve",
    value: Annotated[str, Form(max_length=64)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
    batch: Annotated[str, Form()] = "",
    field: Annotated[str, Form()] = "",
) -> Response:
    filters = _filters(int(batch) if batch.isdigit() else None, field or None)
    try:
        if action == "unreadable":
            decision = services.field_unreadable(ctx, viewer, field_id, note or None)
        else:
            decision = services.review_field(ctx, viewer, field_id, value, note or None)
    except HdrError as err:
        message = form_error(err)
        return _review_page(
            request, viewer, ctx, field_id, filters, error=message, typed=value,
            status=http_status(err),
        )  # fmt: skip
    return redirect("/review", after=field_id, last=decision.review_id, **filters)


# ---------------------------------------------------------------- upload and batch status


@router.get("/upload")
def upload_form(request: Request, viewer: PageViewer, ctx: Ctx) -> Response:
    return _upload_page(request, viewer, ctx)


def _upload_page(
    request: Request, viewer: Viewer, ctx: Ctx, error: str | None = None, status: int = 200
) -> Response:
    with session_scope(ctx.engine) as session:
        jobs = [
            {
                "job_id": j.id,
                "status": j.status,
                "source": j.source,
                "created_by": j.created_by,
                "created_at": j.created_at,
                "batch_id": j.batch_id,
                "n_files": len(j.files),
            }
            for j in list_jobs(session, limit=15)
        ]
    return render(request, "upload.html", viewer, status, jobs=jobs, cfg=ctx.cfg, error=error)


@router.post("/upload")
def upload_files(
    request: Request,
    viewer: FormViewer,
    ctx: Ctx,
    files: Annotated[list[UploadFile], File()],
) -> Response:
    try:
        job_id = services.accept_files(
            ctx, viewer, [(f.filename or "", f.file) for f in files if f.filename]
        )
    except HdrError as err:
        return _upload_page(request, viewer, ctx, form_error(err), http_status(err))
    return redirect(f"/uploads/{job_id}")


@router.post("/upload/url")
def upload_url(
    request: Request,
    viewer: FormViewer,
    ctx: Ctx,
    url: Annotated[str, Form(max_length=2048)] = "",
) -> Response:
    try:
        job_id = services.accept_url(ctx, viewer, url)
    except HdrError as err:
        return _upload_page(request, viewer, ctx, form_error(err), http_status(err))
    return redirect(f"/uploads/{job_id}")


@router.get("/uploads/{job_id}")
def upload_job(request: Request, job_id: int, viewer: PageViewer, ctx: Ctx) -> Response:
    return render(request, "job.html", viewer, job=services.job_view(ctx, job_id))


@router.get("/uploads/{job_id}/status")
def upload_job_status(request: Request, job_id: int, viewer: PageViewer, ctx: Ctx) -> Response:
    """The live part of the batch page, fetched again every second until the job ends."""
    job = services.job_view(ctx, job_id)
    response = render(request, "_job_status.html", viewer, job=job)
    if job["final"]:
        response.headers["X-Job-Final"] = "1"
    return response


@router.get("/batches")
def batches(request: Request, viewer: PageViewer, ctx: Ctx) -> Response:
    with session_scope(ctx.engine) as session:
        rows = [r._asdict() for r in batch_summaries(session)[:100]]
        uploads = history.uploads_by_batch(session, [r["batch_id"] for r in rows])
    for row in rows:
        row["upload_id"], row["upload_source"] = uploads.get(row["batch_id"], (None, None))
    return render(request, "batches.html", viewer, batches=rows)


# ---------------------------------------------------------------- search and history


@router.get("/documents")
def documents(
    request: Request,
    viewer: PageViewer,
    ctx: Ctx,
    batch: str = "",
    status: str = "",
    since: str = "",
    until: str = "",
    value: str = "",
) -> Response:
    query = {"batch": batch, "status": status, "since": since, "until": until, "value": value}
    error, rows = None, []
    try:
        with session_scope(ctx.engine) as session:
            rows = history.search_documents(
                session,
                batch_id=int(batch) if batch.strip().isdigit() else None,
                status=status or None,
                since=history.parse_day(since, "from"),
                until=history.parse_day(until, "to"),
                value=value[:64] or None,
            )
    except HdrError as err:
        error = form_error(err)
    return render(request, "documents.html", viewer, rows=rows, query=query, error=error)


@router.get("/documents/{key}")
def document(request: Request, key: str, viewer: PageViewer, ctx: Ctx) -> Response:
    with session_scope(ctx.engine) as session:
        doc = history.document_view(session, key)
    return render(request, "document.html", viewer, doc=doc)


# ---------------------------------------------------------------- users


@router.get("/users")
def users(request: Request, viewer: AdminViewer, ctx: Ctx) -> Response:
    return _users_page(request, viewer, ctx)


def _users_page(
    request: Request, viewer: Viewer, ctx: Ctx, error: str | None = None, status: int = 200
) -> Response:
    with session_scope(ctx.engine) as session:
        rows = [
            {"username": u.username, "role": u.role, "active": u.active, "last": u.last_login_at}
            for u in list_users(session)
        ]
    return render(request, "users.html", viewer, status, users=rows, error=error)


@router.post("/users")
def users_add(
    request: Request,
    viewer: FormViewer,
    ctx: Ctx,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    role: Annotated[str, Form()] = "reviewer",
) -> Response:
    if not viewer.is_admin:
        from web.security import Forbidden

        raise Forbidden("only admins add users")
    try:
        with session_scope(ctx.engine, write=True) as session:
            add_user(session, username, password, role)
    except HdrError as err:
        return _users_page(request, viewer, ctx, form_error(err), 422)
    return redirect("/users")
