"""Who is asking, and whether they may: session cookies, CSRF tokens, login throttling, headers.

Every page, image and API call needs a live session (:func:`viewer_or_none` reads it from the
``hdr_session`` cookie: HttpOnly, SameSite=Lax, Secure behind HTTPS). Every state-changing
request must carry the session's CSRF token: a ``csrf_token`` form field, or the
``X-CSRF-Token`` header for the JSON API; a request whose ``Origin`` is another site is refused
too. The login form, before any session exists, is protected by a double-submit cookie.

>>> viewer = viewer_or_none(request)         # None: not logged in
>>> check_csrf(request, viewer, submitted)    # raises CsrfRefused when it does not match
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fastapi import HTTPException, Request, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from db import session_scope
from db.users import session_user

SESSION_COOKIE = "hdr_session"
LOGIN_CSRF_COOKIE = "hdr_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"

# No inline script or style anywhere: everything comes from /static.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'"
)


@dataclass(frozen=True)
class Viewer:
    """The person behind a request (a detached copy of their session and account)."""

    user_id: int
    username: str
    role: str
    csrf_token: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class LoginRequired(Exception):
    """No live session: pages redirect to the login page, images and the API answer 401."""


class Forbidden(Exception):
    """Logged in, but not allowed (an admin page for a reviewer)."""


class CsrfRefused(Exception):
    """A state-changing request without the session's CSRF token, or from another site."""


def viewer_or_none(request: Request) -> Viewer | None:
    """The logged-in person of this request, or None."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    with session_scope(request.app.state.engine) as session:
        row = session_user(session, token)
        if row is None:
            return None
        return Viewer(row.user.id, row.user.username, row.user.role, row.csrf_token)


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return urlsplit(origin).netloc.lower() == host.lower()


def check_csrf(request: Request, viewer: Viewer, submitted: str | None) -> None:
    """Refuse a state-changing request that does not prove it comes from our own page."""
    if not _same_origin(request):
        raise CsrfRefused("the request comes from another site")
    if not submitted or not secrets.compare_digest(submitted, viewer.csrf_token):
        raise CsrfRefused("the form is out of date or did not come from this site")


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def check_login_csrf(request: Request, submitted: str | None) -> None:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not _same_origin(request):
        raise CsrfRefused("the request comes from another site")
    if not cookie or not submitted or not secrets.compare_digest(cookie, submitted):
        raise CsrfRefused("the login form is out of date: reload the page")


def set_cookie(response: Response, name: str, value: str, max_age: int, secure: bool) -> None:
    response.set_cookie(
        name, value, max_age=max_age, httponly=True, samesite="lax", secure=secure, path="/"
    )


class LoginThrottle:
    """At most ``attempts`` failed logins per (user name, address) in ``window_s`` seconds."""

    def __init__(self, attempts: int, window_s: float) -> None:
        self.attempts = attempts
        self.window_s = window_s
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] > self.window_s:
            times.popleft()
        return times

    def wait_seconds(self, username: str, address: str) -> float:
        """How long this name from this address must wait (0: it may try now)."""
        now = time.monotonic()
        with self._lock:
            times = self._recent((username.lower(), address), now)
            if len(times) < self.attempts:
                return 0.0
            return max(1.0, self.window_s - (now - times[0]))

    def failed(self, username: str, address: str) -> None:
        with self._lock:
            key = (username.lower(), address)
            self._recent(key, time.monotonic()).append(time.monotonic())
            if len(self._failures) > 10_000:  # bounded memory under a spray of names
                self._failures = {k: v for k, v in self._failures.items() if v}

    def succeeded(self, username: str, address: str) -> None:
        with self._lock:
            self._failures.pop((username.lower(), address), None)


class SecurityHeaders:
    """Headers on every response: CSP, no framing, no sniffing, no caching of private data."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_static = scope.get("path", "").startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                ]
                if not is_static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _BodyTooLarge(HTTPException):
    """Raised while the body streams in; FastAPI answers it as a 413 like any HTTPException."""

    def __init__(self) -> None:
        super().__init__(413, "the request is larger than the upload limit")


class BodySizeLimit:
    """Refuse (413) a request body larger than ``limit`` bytes, declared or streamed."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for key, value in scope.get("headers", []):
            if key == b"content-length" and value.isdigit() and int(value) > self.limit:
                await _too_large(send)
                return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await _too_large(send)


async def _too_large(send: Send) -> None:
    body = b'{"error":"file_too_large","message":"the request is larger than the upload limit"}'
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
