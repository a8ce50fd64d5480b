"""The review web app: :func:`create_app` builds it, ``hdr web`` serves it with uvicorn.

>>> from web.app import create_app
>>> app = create_app(db_url="sqlite:///results.sqlite3")     # schema from `hdr db upgrade`
>>> # uvicorn.run(app, host="127.0.0.1", port=8000)

Server-rendered pages (:mod:`web.pages`, Jinja2, a little plain JavaScript) and the same
actions as a JSON API under ``/api`` (:mod:`web.api`; schema at ``/api/openapi.json``, for
logged-in users only, like everything but the login page and the static files).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from db import create_engine_from_url
from hdr.config import PipelineConfig, Settings, load_pipeline_config
from hdr.errors import HdrError
from web.config import WebConfig, load_web_config
from web.errors import error_body, http_status
from web.security import (
    BodySizeLimit,
    CsrfRefused,
    Forbidden,
    LoginRequired,
    LoginThrottle,
    SecurityHeaders,
)
from web.services import WebContext
from web.templating import WEB_DIR, templates
from web.worker import UploadWorker

log = logging.getLogger("web")


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path.endswith(".png")


def create_app(
    db_url: str | None = None,
    config: WebConfig | None = None,
    pipeline: PipelineConfig | None = None,
    data_dir: Path | None = None,
) -> FastAPI:
    """The app, reading uploads with a worker thread started when the app starts."""
    cfg = config or load_web_config()
    settings = Settings()
    engine = create_engine_from_url(db_url or settings.db_url_or_default())
    pipeline_cfg = pipeline or load_pipeline_config()
    uploads_root = (data_dir or settings.data_dir) / "uploads"
    worker = UploadWorker(engine, pipeline_cfg, cfg, uploads_root)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker.start()
        try:
            yield
        finally:
            worker.stop()
            engine.dispose()

    app = FastAPI(
        title="hdr review",
        version="0.1.0",
        summary="Review the fields the machine was unsure of; upload documents; search results.",
        lifespan=lifespan,
        docs_url=None,  # the schema is served to logged-in users only (web.api)
        redoc_url=None,
        openapi_url=None,
    )
    app.state.engine = engine
    app.state.ctx = WebContext(
        engine,
        cfg,
        pipeline_cfg,
        uploads_root,
        worker,
        LoginThrottle(cfg.login_attempts, cfg.login_window_s),
    )
    app.add_middleware(BodySizeLimit, limit=cfg.request_limit_bytes)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=str(WEB_DIR / "static")), name="static")

    from web import api, pages

    app.include_router(api.router)
    app.include_router(pages.router)
    _add_handlers(app)
    return app


def _add_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        if wants_json(request) or request.method != "GET":
            body = {"error": "login_required", "message": "log in first", "hint": None}
            return JSONResponse(body, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        body = {"error": "forbidden", "message": str(exc) or "admins only", "hint": None}
        if wants_json(request):
            return JSONResponse(body, status_code=403)
        return _error_page(request, 403, body["message"] or "")

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, exc: CsrfRefused) -> Response:
        body = {"error": "csrf", "message": str(exc), "hint": "reload the page and try again"}
        if wants_json(request):
            return JSONResponse(body, status_code=403)
        return _error_page(request, 403, str(exc))

    @app.exception_handler(HdrError)
    async def _hdr_error(request: Request, exc: HdrError) -> Response:
        status = http_status(exc)
        if status >= 500:
            log.error("%s %s: %s", request.method, request.url.path, exc)
        if wants_json(request):
            return JSONResponse(error_body(exc), status_code=status)
        return _error_page(request, status, exc.message, exc.hint)


def _error_page(request: Request, status: int, message: str, hint: str | None = None) -> Response:
    from web.security import viewer_or_none

    try:
        viewer = viewer_or_none(request)
    except HdrError:
        viewer = None
    return templates.TemplateResponse(
        request,
        "error.html",
        {"viewer": viewer, "status": status, "message": message, "hint": hint},
        status_code=status,
    )
