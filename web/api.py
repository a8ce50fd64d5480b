"""The JSON API: the same actions as the pages, for scripts and other systems.

Log in with ``POST /api/session`` (JSON user name and password): the answer sets the session
cookie and gives the ``csrf_token`` that every state-changing call sends back in the
``X-CSRF-Token`` header. The OpenAPI schema is at ``GET /api/openapi.json``.

>>> s = httpx.Client(base_url="http://127.0.0.1:8000")
>>> me = s.post("/api/session", json={"username": "alice", "password": "..."}).json()
>>> csrf = me["csrf_token"]
>>> field = s.get("/api/review/next").json()
>>> s.post(f"/api/fields/{field['field_id']}/review", json={"value": "1250.00"},
...        headers={"X-CSRF-Token": csrf}).json()["status"]
'accepted'
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from db import batch_summaries, session_scope
from db.dual_control import Decision
from db.users import add_user, authenticate, close_session, list_users, open_session
from web import history, services
from web.deps import ApiAdmin, ApiWriter, Ctx, PageViewer
from web.render import page_with_box, shaded_crop
from web.security import SESSION_COOKIE, set_cookie

router = APIRouter(prefix="/api", tags=["api"])


class Credentials(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)


class SessionOut(BaseModel):
    username: str
    role: str
    csrf_token: str = Field(description="Send it back in the X-CSRF-Token header.")


class UrlUpload(BaseModel):
    url: str = Field(max_length=2048, examples=["https://files.example.com/cheque.pdf"])


class JobOut(BaseModel):
    job_id: int
    status: str = Field(description="queued | running | done | failed")
    kind: str
    source: str
    created_by: str
    created_at: str | None
    started_at: str | None
    finished_at: str | None
    batch_id: int | None
    flow_run_id: str | None
    message: str | None
    n_files: int
    n_read: int
    files: list[dict[str, Any]]
    final: bool


class ReviewIn(BaseModel):
    value: str = Field(max_length=64, examples=["1250.00"])
    note: str | None = Field(default=None, max_length=500)


class NoteIn(BaseModel):
    note: str | None = Field(default=None, max_length=500)


class DecisionOut(BaseModel):
    field_id: int
    status: str = Field(description="accepted | pending_second | rejected")
    value: str | None
    review_id: int
    approved_by: list[str]
    message: str


class NewUser(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(min_length=10, max_length=1024)
    role: str = Field(default="reviewer", pattern="^(reviewer|admin)$")


class UserOut(BaseModel):
    username: str
    role: str
    active: bool


def _decision(d: Decision) -> DecisionOut:
    return DecisionOut(
        field_id=d.field_id,
        status=d.status,
        value=d.value,
        review_id=d.review_id,
        approved_by=list(d.approved_by),
        message=d.message,
    )


# ---------------------------------------------------------------- session


@router.post("/session", response_model=SessionOut, summary="Log in")
def api_login(body: Credentials, request: Request, response: Response, ctx: Ctx) -> Any:
    address = request.client.host if request.client else "?"
    wait = ctx.throttle.wait_seconds(body.username, address)
    if wait:
        return JSONResponse(
            {"error": "too_many_attempts", "message": f"try again in {wait:.0f} s", "hint": None},
            status_code=429,
            headers={"Retry-After": str(int(wait))},
        )
    with session_scope(ctx.engine, write=True) as session:
        user = authenticate(session, body.username, body.password)
        if user is None:
            ctx.throttle.failed(body.username, address)
            return JSONResponse(
                {"error": "login_failed", "message": "wrong user name or password", "hint": None},
                status_code=401,
            )
        token, row = open_session(session, user, ctx.cfg.session_hours)
        out = SessionOut(username=user.username, role=user.role, csrf_token=row.csrf_token)
    ctx.throttle.succeeded(body.username, address)
    set_cookie(
        response, SESSION_COOKIE, token, int(ctx.cfg.session_hours * 3600), ctx.cfg.secure_cookies
    )
    return out


@router.get("/session", response_model=SessionOut, summary="Who is logged in")
def api_whoami(viewer: PageViewer) -> Any:
    return SessionOut(username=viewer.username, role=viewer.role, csrf_token=viewer.csrf_token)


@router.delete("/session", status_code=204, summary="Log out")
def api_logout(request: Request, viewer: ApiWriter, ctx: Ctx) -> Response:
    with session_scope(ctx.engine, write=True) as session:
        close_session(session, request.cookies.get(SESSION_COOKIE))
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/openapi.json", include_in_schema=False)
def api_schema(request: Request, viewer: PageViewer) -> Any:
    return request.app.openapi()


# ---------------------------------------------------------------- uploads


@router.post("/uploads", response_model=JobOut, status_code=201, summary="Upload files")
def api_upload_files(
    files: Annotated[list[UploadFile], File(description="PNG, JPEG, TIFF or PDF files.")],
    viewer: ApiWriter,
    ctx: Ctx,
) -> Any:
    job_id = services.accept_files(ctx, viewer, [(f.filename or "", f.file) for f in files])
    return services.job_view(ctx, job_id)


@router.post("/uploads/url", response_model=JobOut, status_code=201, summary="Upload from a URL")
def api_upload_url(body: UrlUpload, viewer: ApiWriter, ctx: Ctx) -> Any:
    job_id = services.accept_url(ctx, viewer, body.url)
    return services.job_view(ctx, job_id)


@router.get("/uploads/{job_id}", response_model=JobOut, summary="An upload and its status")
def api_upload(job_id: int, viewer: PageViewer, ctx: Ctx) -> Any:
    return services.job_view(ctx, job_id)


# ---------------------------------------------------------------- review


@router.get("/review/next", summary="The next field waiting for this reviewer")
def api_next(
    viewer: PageViewer,
    ctx: Ctx,
    after: int | None = None,
    batch_id: int | None = None,
    field_name: Annotated[str | None, Query(pattern="^(amount|account)$")] = None,
) -> Any:
    with session_scope(ctx.engine) as session:
        field_id = services.next_field_id(session, viewer, after, batch_id, field_name)
        if field_id is None:
            return Response(status_code=204)
        return services.field_view(session, field_id, viewer, ctx.cfg)


@router.get("/fields/{field_id}", summary="A field: values, glyphs, audit trail")
def api_field(field_id: int, viewer: PageViewer, ctx: Ctx) -> Any:
    with session_scope(ctx.engine) as session:
        return services.field_view(session, field_id, viewer, ctx.cfg)


@router.post("/fields/{field_id}/review", response_model=DecisionOut, summary="Approve a value")
def api_review(field_id: int, body: ReviewIn, viewer: ApiWriter, ctx: Ctx) -> Any:
    return _decision(services.review_field(ctx, viewer, field_id, body.value, body.note))


@router.post("/fields/{field_id}/unreadable", response_model=DecisionOut, summary="Mark unreadable")
def api_unreadable(field_id: int, body: NoteIn, viewer: ApiWriter, ctx: Ctx) -> Any:
    return _decision(services.field_unreadable(ctx, viewer, field_id, body.note))


@router.get(
    "/fields/{field_id}/crop.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
    summary="The field crop, glyphs shaded by confidence (shade=false: as stored)",
)
def api_crop(field_id: int, viewer: PageViewer, ctx: Ctx, shade: bool = True) -> Response:
    with session_scope(ctx.engine) as session:
        png, glyphs = services.crop_of(session, field_id)
    return Response(shaded_crop(png, glyphs) if shade else png, media_type="image/png")


@router.get(
    "/fields/{field_id}/page.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
    summary="The page around a field, the field outlined",
)
async def api_page(field_id: int, viewer: PageViewer, ctx: Ctx) -> Response:
    def render() -> bytes:
        with session_scope(ctx.engine) as session:
            path, page_index, box, turn, cut = services.document_file(session, field_id)
        return page_with_box(path, page_index, box, ctx.pipeline, turn, cut)

    return Response(await run_in_threadpool(render), media_type="image/png")


# ---------------------------------------------------------------- search and history


@router.get("/documents", summary="Find documents by batch, status, day read, value")
def api_documents(
    viewer: PageViewer,
    ctx: Ctx,
    batch_id: int | None = None,
    status: Annotated[str | None, Query(pattern="^(accepted|review|rejected|error)$")] = None,
    since: Annotated[str | None, Query(description="YYYY-MM-DD, inclusive")] = None,
    until: Annotated[str | None, Query(description="YYYY-MM-DD, inclusive")] = None,
    value: Annotated[
        str | None, Query(max_length=64, description="amount, or account prefix")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Any:
    with session_scope(ctx.engine) as session:
        return history.search_documents(
            session,
            batch_id=batch_id,
            status=status,
            since=history.parse_day(since, "since"),
            until=history.parse_day(until, "until"),
            value=value,
            limit=limit,
            offset=offset,
        )


@router.get("/documents/{key}", summary="A document, every result, each field's audit trail")
def api_document(key: str, viewer: PageViewer, ctx: Ctx) -> Any:
    with session_scope(ctx.engine) as session:
        return history.document_view(session, key)


@router.get("/batches", summary="Batches with their counts and rates, newest first")
def api_batches(
    viewer: PageViewer, ctx: Ctx, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> Any:
    with session_scope(ctx.engine) as session:
        return [_plain(r._asdict()) for r in batch_summaries(session)[:limit]]


@router.get("/batches/{batch_id}", summary="One batch's counts and rates")
def api_batch(batch_id: int, viewer: PageViewer, ctx: Ctx) -> Any:
    with session_scope(ctx.engine) as session:
        return _plain(batch_summaries(session, batch_id=batch_id)[0]._asdict())


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()}


# ---------------------------------------------------------------- users (admins)


@router.get("/users", response_model=list[UserOut], summary="Accounts (admins)")
def api_users(viewer: PageViewer, ctx: Ctx) -> Any:
    if not viewer.is_admin:
        from web.security import Forbidden

        raise Forbidden("admins only")
    with session_scope(ctx.engine) as session:
        return [
            UserOut(username=u.username, role=u.role, active=u.active) for u in list_users(session)
        ]


@router.post("/users", response_model=UserOut, status_code=201, summary="Add an account (admins)")
def api_add_user(body: NewUser, viewer: ApiAdmin, ctx: Ctx) -> Any:
    with session_scope(ctx.engine, write=True) as session:
        user = add_user(session, body.username, body.password, body.role)
        return UserOut(username=user.username, role=user.role, active=user.active)
