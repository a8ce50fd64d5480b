"""FastAPI dependencies: who is asking (pages and API), and the CSRF check on every change.

>>> @router.post("/thing")
... def change(viewer: Annotated[Viewer, Depends(form_viewer)]) -> Response: ...
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Header, Request

from web.security import CSRF_HEADER, Forbidden, LoginRequired, Viewer, check_csrf, viewer_or_none
from web.services import WebContext


def get_ctx(request: Request) -> WebContext:
    return request.app.state.ctx


def page_viewer(request: Request) -> Viewer:
    """The logged-in person; pages redirect to the login page, the API answers 401."""
    viewer = viewer_or_none(request)
    if viewer is None:
        raise LoginRequired
    return viewer


def admin_viewer(viewer: Annotated[Viewer, Depends(page_viewer)]) -> Viewer:
    if not viewer.is_admin:
        raise Forbidden("this page is for admins")
    return viewer


def form_viewer(
    request: Request,
    viewer: Annotated[Viewer, Depends(page_viewer)],
    csrf_token: Annotated[str, Form()] = "",
) -> Viewer:
    """A form post: logged in, and the form carries this session's CSRF token."""
    check_csrf(request, viewer, csrf_token)
    return viewer


def api_writer(
    request: Request,
    viewer: Annotated[Viewer, Depends(page_viewer)],
    x_csrf_token: Annotated[
        str | None,
        Header(alias=CSRF_HEADER, description="The csrf_token of GET /api/session."),
    ] = None,
) -> Viewer:
    """A state-changing API call: logged in, and the X-CSRF-Token header matches."""
    check_csrf(request, viewer, x_csrf_token)
    return viewer


def api_admin(viewer: Annotated[Viewer, Depends(api_writer)]) -> Viewer:
    if not viewer.is_admin:
        raise Forbidden("admins only")
    return viewer


Ctx = Annotated[WebContext, Depends(get_ctx)]
PageViewer = Annotated[Viewer, Depends(page_viewer)]
AdminViewer = Annotated[Viewer, Depends(admin_viewer)]
FormViewer = Annotated[Viewer, Depends(form_viewer)]
ApiWriter = Annotated[Viewer, Depends(api_writer)]
ApiAdmin = Annotated[Viewer, Depends(api_admin)]
