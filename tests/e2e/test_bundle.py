"""The compose bundle end to end: build, migrate once, serve through 127.0.0.1, keep data across down/up."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest

from tests.e2e.bundle import Bundle, HttpResponse, wait_until
from tests.e2e.shop import alembic_head, assert_database_sound, assert_migrated_once

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

SERVICES = ("migrate", "api", "worker")
UPGRADE_LOGGED = "Running upgrade"  # alembic's INFO line per revision applied


def order_row(bundle: Bundle, order_id: str) -> list[list[Any]]:
    return bundle.sql("SELECT id, user_id, total FROM orders WHERE id = ?", [order_id])


def test_bundle_migrates_serves_and_keeps_data_across_down_and_up(bundle: Bundle) -> None:
    bundle.up(*SERVICES, build=True)
    assert_migrated_once(bundle)
    first_migration = bundle.logs("migrate")
    assert f"{UPGRADE_LOGGED}  -> 0001" in first_migration, first_migration  # the log would show upgrades
    assert f"-> {alembic_head()}" in first_migration, first_migration
    running = {c["Service"]: c for c in bundle.ps() if c["State"] == "running"}
    assert set(running) == {"api", "worker"}, bundle.ps()
    assert all(c["Health"] == "healthy" for c in running.values()), running

    health = bundle.wait_http_ok("/health")
    assert health.json()["status"] == "ok"

    assert_database_sound(bundle)
    assert bundle.scalar("PRAGMA journal_mode") == "wal"
    assert bundle.exec("api", "id", "-u").strip() == "10001"

    stock_before = bundle.scalar("SELECT stock FROM products WHERE id = 'prod-2'")
    key = f"e2e-{secrets.token_hex(8)}"
    placed = bundle.post_order([{"productId": "prod-2", "quantity": 2}], idempotency_key=key)
    assert placed.status == 201, placed.body
    order = placed.json()
    assert order_row(bundle, order["id"]) == [[order["id"], "e2e-user", order["total"]]]
    # The operator's CLI is on the image's PATH and reads the same database.
    stats = json.loads(bundle.exec("api", "shopqueue", "stats", "--json"))
    assert sum(entry["count"] for entry in stats["byType"]) >= 2  # the order's confirmation and follow-up

    # `down` without -v: containers go, the volume and everything in it stays.
    bundle.down()
    assert bundle.ps() == []
    bundle.up(*SERVICES)
    assert_migrated_once(bundle)  # a fresh migrate container
    second_migration = bundle.logs("migrate")
    assert "Context impl SQLiteImpl" in second_migration, second_migration  # alembic ran and logged...
    assert UPGRADE_LOGGED not in second_migration, second_migration  # ...but applied nothing

    fetched = bundle.get_json(f"/orders/{order['id']}")
    assert {k: fetched[k] for k in ("id", "userId", "total", "items")} == {
        k: order[k] for k in ("id", "userId", "total", "items")
    }
    replay = bundle.post_order([{"productId": "prod-2", "quantity": 2}], idempotency_key=key)
    assert (replay.status, replay.json()["id"]) == (201, order["id"])
    assert bundle.scalar("SELECT count(*) FROM orders") == 1
    assert bundle.scalar("SELECT stock FROM products WHERE id = 'prod-2'") == stock_before - 2
    assert_database_sound(bundle)


# Runs in each container: who it runs as, what it may write, and its capabilities.
_PRIVILEGE_PROBE = """
import json, os, pathlib
def writable(directory):
    probe = pathlib.Path(directory) / f".probe-{os.getpid()}"
    try:
        probe.write_text("x")
    except OSError:
        return False
    probe.unlink()
    return True
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(json.dumps({
    "uid": os.getuid(),
    "writable": {d: writable(d) for d in ("/", "/app", "/opt/venv", "/etc", "/var/tmp", "/tmp", "/data")},
    "capabilities": status["CapEff"].strip(),
    "no_new_privileges": status["NoNewPrivs"].strip(),
}))
"""


def test_every_container_is_unprivileged_on_a_read_only_root(bundle: Bundle) -> None:
    bundle.up(*SERVICES)  # the first test leaves it running; this only checks it is
    for service in SERVICES:
        for container in bundle.containers(service):
            info = bundle.inspect(container)
            host = info["HostConfig"]
            assert (host["ReadonlyRootfs"], host["CapDrop"], info["Config"]["User"]) == (True, ["ALL"], "app")
            assert "no-new-privileges:true" in host["SecurityOpt"]
            assert "/tmp" in host["Tmpfs"]
    for service in ("api", "worker"):
        probe = json.loads(bundle.exec(service, "python", "-c", _PRIVILEGE_PROBE))
        assert probe == {
            "uid": 10001,
            # /var/tmp is writable by anyone on a writable root: read_only is what closes it
            "writable": {
                "/": False,
                "/app": False,
                "/opt/venv": False,
                "/etc": False,
                "/var/tmp": False,
                "/tmp": True,
                "/data": True,
            },
            "capabilities": "0000000000000000",
            "no_new_privileges": "1",
        }, service

    # Everything the shop writes still works: the order, and the worker's invoice on the volume.
    placed = bundle.post_order([{"productId": "prod-1", "quantity": 1}])
    assert placed.status == 201, placed.body

    def generated_invoice() -> HttpResponse | None:
        response = bundle.request("GET", f"/orders/{placed.json()['id']}/invoice")
        return response if response.status == 200 else None

    invoice = wait_until(generated_invoice, timeout=60, what="the invoice")
    assert invoice.body.startswith(b"%PDF-")
    assert bundle.admin("GET", "/admin/queue/stats").status == 200
    assert bundle.admin_token not in bundle.logs()  # neither in access lines nor anywhere else
