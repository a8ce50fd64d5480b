"""The review web app: people correct the fields the machine was unsure of, every change audited.

>>> from web.app import create_app
>>> app = create_app()             # HDR_DB_URL, configs/web.yaml; `hdr web` serves it

Modules: :mod:`web.app` (the FastAPI app), :mod:`web.pages` (server-rendered pages),
:mod:`web.api` (the JSON API), :mod:`web.services` (what both do), :mod:`web.security`
(sessions, CSRF, throttling, headers), :mod:`web.storage` (uploaded files),
:mod:`web.fetch` (URL uploads), :mod:`web.worker` (reading uploads), :mod:`web.render`
(crops and pages for reviewers), :mod:`web.config` (configs/web.yaml).
The data lives in :mod:`db` (users and sessions: :mod:`db.users`; upload jobs:
:mod:`db.uploads`; dual control: :mod:`db.dual_control`).
"""
