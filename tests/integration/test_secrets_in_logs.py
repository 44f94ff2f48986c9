"""The admin token, and the dashboard session derived from it, never reach a log line.

The real server (`python -m api`) and a worker log at DEBUG, as JSON, while the admin API is used
with the right token and a wrong one, the dashboard is signed into (the token posted in a form),
and a client puts the token in a URL. Every request is in the access log, and no line of either
process holds the token, the wrong token or the session cookie.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx

from shared.config import Settings
from tests.e2e.bundle import json_log_events
from tests.support.processes import run_worker_burst, running_api


def test_no_log_line_holds_the_admin_token_or_a_session(settings: Settings, tmp_path: Path) -> None:
    token = secrets.token_urlsafe(24)
    wrong = secrets.token_urlsafe(24)
    env = {"ADMIN_TOKEN": token, "LOG_LEVEL": "DEBUG", "LOG_FORMAT": "json"}
    with running_api(settings, tmp_path, **env) as api, httpx.Client(base_url=api.base_url, timeout=30) as client:
        admin = {"Authorization": f"Bearer {token}"}
        assert client.get("/admin/queue/stats", headers=admin).status_code == 200
        enqueued = client.post(
            "/admin/jobs", headers=admin, json={"type": "send_email", "payload": {"to": "a@b.test", "subject": "hi"}}
        )
        assert enqueued.status_code == 201, enqueued.text
        assert client.get("/admin/queue/stats", headers={"Authorization": f"Bearer {wrong}"}).status_code == 401
        assert client.get(f"/admin/ui/login?token={token}").status_code == 200  # a token in a URL signs nobody in
        refused = client.post("/admin/ui/login", data={"token": wrong, "next": "/admin"})
        assert refused.status_code == 401
        signed_in = client.post("/admin/ui/login", data={"token": token, "next": "/admin"})
        assert signed_in.status_code == 303, signed_in.text
        session = signed_in.cookies["shopqueue_dashboard"]
        assert client.get("/admin").status_code == 200
    api_log = api.log()  # once the server has stopped: an access line is written after its response
    worker = run_worker_burst(settings, ADMIN_TOKEN=token, LOG_LEVEL="DEBUG", LOG_FORMAT="json")
    assert worker.returncode == 0, worker.stderr

    requests = [e for e in json_log_events(api_log) if e.get("event") == "http.request" and e["path"] != "/health"]
    assert len(requests) == 7, api_log  # every request above was logged...
    assert any(e.get("level") == "debug" for e in json_log_events(api_log))  # ...at DEBUG, too
    for secret in (token, wrong, session):
        assert secret not in api_log
        assert secret not in worker.stdout + worker.stderr
