"""A reviewer's session in a real browser: Playwright driving Debian's chromium against `hdr web`.

The app runs as `hdr web` in its own process on a free 127.0.0.1 port, on an SQLite database
whose only account was made with `hdr users add`. The browser is refused without a session,
logs in, uploads two sample cheques, watches the batch page until they are read, then works
the batch's review queue with the keyboard only (the value and Enter; U for a field the truth
says is blank), and each decision is checked as a row of the audit trail in the database.
Logged out, pages and images are refused again.

Screenshots go to the test's temporary folder; with ``HDR_UPDATE_SCREENSHOTS=1`` they replace
docs/web-login.png, docs/web-batch.png and docs/web-queue.png (shown in the README).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from db import create_engine_from_url, session_scope
from db.models import Field, Review
from hdr.synth.truth import read_truth

pytestmark = [pytest.mark.browser, pytest.mark.integration]

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "tests" / "resources" / "sample"
CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "a long browser passphrase"
UPLOADS = ("doc_0002.png", "doc_0001.jpg")  # the second has a blank amount: always reviewed


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_serving(port: int, server: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"hdr web exited with {server.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"hdr web did not listen on {port} within {timeout} s")


@pytest.fixture
def app_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """`hdr web` on a free port with one reviewer; yields (base URL, database URL)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium")
    pytest.importorskip("playwright.sync_api")
    db_url = f"sqlite:///{tmp_path / 'results.sqlite3'}"
    env = {**os.environ, "HDR_DB_URL": db_url, "HDR_DATA_DIR": str(tmp_path / "data")}
    hdr = [sys.executable, "-m", "hdr"]
    made = subprocess.run(
        [*hdr, "users", "add", "alice", "--role", "reviewer", "--password-stdin"],
        input=PASSWORD + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    port = _free_port()
    server = subprocess.Popen(
        [*hdr, "web", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_until_serving(port, server, timeout=60)
        yield f"http://127.0.0.1:{port}", db_url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    if os.environ.get("HDR_UPDATE_SCREENSHOTS") == "1":
        return REPO / "docs"
    folder = tmp_path / "screenshots"
    folder.mkdir()
    return folder


def test_reviewer_uploads_a_cheque_and_corrects_it_with_the_keyboard(
    app_server: tuple[str, str], shots: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, db_url = app_server
    truth = {(r.file, name): getattr(r, name) for r in read_truth(SAMPLE / "truth.jsonl")
             for name in ("amount", "account")}  # fmt: skip
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1200, "height": 820})
        page.set_default_timeout(30_000)

        # refused without a session: a page sends us to the login form, an image answers 401
        page.goto(f"{base}/review")
        expect(page).to_have_url(f"{base}/login?next=/review")
        assert page.request.get(f"{base}/api/fields/1/crop.png").status == 401
        page.screenshot(path=str(shots / "web-login.png"))

        page.fill("#username", "alice")
        page.fill("#password", PASSWORD)
        page.keyboard.press("Enter")
        expect(page).to_have_url(f"{base}/review")

        # upload two sample cheques and watch the batch page until they are read
        page.goto(f"{base}/upload")
        page.set_input_files("#files", [str(SAMPLE / name) for name in UPLOADS])
        page.get_by_role("button", name="Upload and read").click()
        expect(page.locator("#job-status .badge").first).to_have_text("done", timeout=120_000)
        expect(page.locator("#job-status")).to_contain_text("2 of 2")
        page.screenshot(path=str(shots / "web-batch.png"), full_page=True)

        # the batch's review queue, keyboard only
        page.get_by_role("link", name="Review this batch").click()
        decided: dict[int, str | None] = {}
        pictured = False
        for _ in range(6):
            heading = page.locator(".field-card h1")
            if heading.count() == 0:
                break
            field_id = int(heading.locator("small").inner_text().split()[-1])
            name = heading.inner_text().split()[0].lower()
            document = page.locator(".field-card .meta a").first.inner_text()
            value = truth[(document, name)]
            expect(page.locator("#value")).to_be_focused()
            if not pictured:  # the README picture: a field with glyphs, the page around it
                page.keyboard.press("d")
                expect(page.locator("#page img")).to_be_visible()
                page.wait_for_function("document.querySelector('#page img').complete")
                page.screenshot(path=str(shots / "web-queue.png"), full_page=True)
                pictured = page.locator(".glyph").count() > 0
            if value is None:
                page.keyboard.press("u")
            else:
                page.keyboard.type(value)
                page.keyboard.press("Enter")
            expect(page.locator(".flash[role=status]")).to_contain_text(f"Field {field_id}:")
            decided[field_id] = value
        assert decided, "the uploaded cheques left nothing to review"
        expect(page.locator(".empty h1")).to_have_text("Nothing to review")

        # logged out, the same pages and images are refused again
        page.get_by_role("button", name="Log out").click()
        expect(page).to_have_url(f"{base}/login")
        page.goto(f"{base}/review")
        expect(page).to_have_url(f"{base}/login?next=/review")
        first = next(iter(decided))
        assert page.request.get(f"{base}/api/fields/{first}/crop.png").status == 401
        browser.close()

    engine = create_engine_from_url(db_url)
    try:
        with session_scope(engine) as session:
            for field_id, value in decided.items():
                (review,) = session.execute(select(Review).where(Review.field_id == field_id))
                row = review[0]
                field = session.get(Field, field_id)
                assert field is not None and row.reviewer == "alice"
                if value is None:
                    assert (row.new_status, field.status, row.note) == (
                        "rejected", "rejected", "unreadable",
                    )  # fmt: skip
                else:
                    assert (row.new_value, row.new_status, field.value) == (
                        value,
                        "accepted",
                        value,
                    )
    finally:
        engine.dispose()
