"""People of the review web app: accounts with argon2id password hashes, roles, sessions.

>>> with session_scope(engine, write=True) as session:
...     add_user(session, "alice", "a long passphrase", role="reviewer")
>>> with session_scope(engine, write=True) as session:
...     user = authenticate(session, "alice", "a long passphrase")   # None when wrong
...     token, web_session = open_session(session, user, hours=12)   # token -> the cookie
>>> with session_scope(engine) as session:
...     session_user(session, token).user.username
'alice'

Passwords are hashed with argon2id (pwdlib's recommended parameters) and never stored or
logged. A session is a random token: the browser keeps it in an HttpOnly cookie, the
database only its sha256, so a leaked copy of the table opens no session. Each session has
its own CSRF token, which every state-changing request must echo.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from enum import StrEnum
from functools import cache

from pwdlib import PasswordHash
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from db.models import User, WebSession, utcnow
from hdr.errors import ReasonCode, UsageError

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD_LEN = 10
MAX_PASSWORD_LEN = 1024  # argon2 hashes any length; this only bounds the work per attempt


class Role(StrEnum):
    """What a person may do: reviewers review and upload; admins also manage users."""

    REVIEWER = "reviewer"
    ADMIN = "admin"


@cache
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


@cache
def _dummy_hash() -> str:
    # Verified against when the user does not exist, so both answers take the same time.
    return _hasher().hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``; ``UsageError`` when it is too short or too long."""
    if len(password) < MIN_PASSWORD_LEN:
        raise UsageError(
            ReasonCode.USAGE,
            f"the password is too short: at least {MIN_PASSWORD_LEN} characters are needed",
        )
    if len(password) > MAX_PASSWORD_LEN:
        raise UsageError(ReasonCode.USAGE, f"the password is longer than {MAX_PASSWORD_LEN}")
    return _hasher().hash(password)


def check_username(username: str) -> str:
    """The name in its stored form (lower case); ``UsageError`` when it is not a valid name."""
    name = username.strip().lower()
    if not _USERNAME.match(name):
        raise UsageError(
            ReasonCode.USAGE,
            f"{username!r} is not a valid user name",
            hint="2 to 64 characters: letters, digits, '.', '_' or '-', starting with one of the "
            "first two",
        )
    return name


def check_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError as err:
        raise UsageError(
            ReasonCode.USAGE, f"unknown role {role!r}", hint="reviewer or admin"
        ) from err


def add_user(session: Session, username: str, password: str, role: str = "reviewer") -> User:
    """Create an account; ``UsageError`` when the name is taken or invalid."""
    name = check_username(username)
    role_value = check_role(role).value
    if session.execute(select(User.id).where(User.username == name)).first() is not None:
        raise UsageError(
            ReasonCode.USAGE,
            f"a user named {name!r} already exists",
            hint="`hdr users passwd NAME` sets a new password",
        )
    user = User(username=name, password_hash=hash_password(password), role=role_value)
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, username: str) -> User:
    user = session.execute(
        select(User).where(User.username == username.strip().lower())
    ).scalar_one_or_none()
    if user is None:
        raise UsageError(ReasonCode.NOT_FOUND, f"no user named {username!r}")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.execute(select(User).order_by(User.username)).scalars())


def set_password(session: Session, username: str, password: str) -> User:
    """A new password; every open session of the user is closed."""
    user = get_user(session, username)
    user.password_hash = hash_password(password)
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    return user


def set_active(session: Session, username: str, active: bool) -> User:
    """Enable or disable an account; disabling closes its sessions at once."""
    user = get_user(session, username)
    user.active = active
    if not active:
        session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, or None (same work either way)."""
    hasher = _hasher()
    if len(password) > MAX_PASSWORD_LEN:
        return None
    user = session.execute(
        select(User).where(User.username == username.strip().lower())
    ).scalar_one_or_none()
    if user is None:
        hasher.verify(password, _dummy_hash())
        return None
    valid, new_hash = hasher.verify_and_update(password, user.password_hash)
    if not valid or not user.active:
        return None
    if new_hash:  # parameters were raised since the hash was made
        user.password_hash = new_hash
    user.last_login_at = utcnow()
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, user: User, hours: float) -> tuple[str, WebSession]:
    """A new session for ``user``: the token for the cookie, and the row (with its CSRF)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = WebSession(
        token_sha256=_digest(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + timedelta(hours=hours),
        last_seen_at=now,
    )
    session.add(row)
    # old sessions of everyone go when they expire; tidy them here, where it costs nothing
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    session.flush()
    return token, row


def session_user(session: Session, token: str | None) -> WebSession | None:
    """The live session of a cookie token (its ``user`` loaded and active), or None."""
    if not token or len(token) > 128:
        return None
    row = session.execute(
        select(WebSession).where(WebSession.token_sha256 == _digest(token))
    ).scalar_one_or_none()
    if row is None or row.expires_at <= utcnow() or not row.user.active:
        return None
    return row


def close_session(session: Session, token: str | None) -> None:
    """Log out: the session row goes, so the cookie opens nothing any more."""
    if token:
        session.execute(delete(WebSession).where(WebSession.token_sha256 == _digest(token)))


__all__ = [
    "MIN_PASSWORD_LEN",
    "Role",
    "add_user",
    "authenticate",
    "check_role",
    "check_username",
    "close_session",
    "get_user",
    "hash_password",
    "list_users",
    "open_session",
    "session_user",
    "set_active",
    "set_password",
]
