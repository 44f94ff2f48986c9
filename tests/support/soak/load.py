"""The soak's clients: threads placing orders through the real API at a steady pace, each retrying
with its Idempotency-Key until it gets its 201, and a reader polling orders, health and the admin
stats. Every response is recorded: status counts, latencies, and the time span of each 5xx so the
audit can tell which fault (if any) explains it."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.support.soak.plan import SoakPlan, order_lines

LOCKED = "database is locked"
POST_ORDERS = "POST /orders"
HEALTH = "GET /health"  # its 503 has its own body (status and database), not the error envelope
RETRY_PAUSE = (0.1, 0.4)  # a client's pause before it tries the same key again
KEEPALIVE_SECONDS = 2.0  # below uvicorn's 5 s keep-alive timeout (see Clients.client)


@dataclass(frozen=True)
class Failure:
    """A 5xx (or no answer) that a client got: when, and what it said."""

    route: str
    status: int | None  # None: no response (connection error or timeout)
    start: float
    end: float
    body: str


@dataclass
class Placed:
    """One order as its client saw it: the 201 body and how many requests it took."""

    key: str
    order: dict[str, Any]
    attempts: int


@dataclass
class Traffic:
    """Everything the clients saw, shared by their threads (guarded by `lock`)."""

    responses: Counter[tuple[str, str]] = field(default_factory=Counter)  # (route, status or error)
    failures: list[Failure] = field(default_factory=list)  # every 5xx and every request without an answer
    problems: list[str] = field(default_factory=list)  # answers that break the contract
    post_seconds: list[float] = field(default_factory=list)
    placed: dict[int, Placed] = field(default_factory=dict)
    replays: int = 0  # repeats of a created order's request, answered with the same order
    races: int = 0  # two requests with one key at the same time, answered with one order
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, route: str, response: httpx.Response | None, start: float, error: str = "") -> None:
        end = time.time()
        status = None if response is None else response.status_code
        body = error if response is None else response.text
        with self.lock:
            self.responses[(route, str(status) if status is not None else "no answer")] += 1
            if route == POST_ORDERS:
                self.post_seconds.append(end - start)
            if status is None or status >= 500:
                self.failures.append(Failure(route, status, start, end, body[:500]))
            if LOCKED in body:
                self.problems.append(f"{route} answered {status} with {LOCKED!r}: {body[:300]}")
            elif status == 503 and route != HEALTH and '"code":"SERVICE_UNAVAILABLE"' not in body.replace(" ", ""):
                self.problems.append(f"{route} answered 503 outside the error envelope: {body[:300]}")

    def problem(self, text: str) -> None:
        with self.lock:
            self.problems.append(text)


def in_flight(response: httpx.Response) -> bool:
    """409 IDEMPOTENCY_REQUEST_IN_FLIGHT: the key is held by another request; retry shortly."""
    return response.status_code == 409 and '"code":"IDEMPOTENCY_REQUEST_IN_FLIGHT"' in response.text.replace(" ", "")


class GaveUpError(Exception):
    """A client got no 201 for its order within the plan's patience (the API is down or stuck)."""


class Pacer:
    """Hands out send times `1/rate` apart, shared by every client thread."""

    def __init__(self, rate: float) -> None:
        self._gap = 1.0 / rate
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def wait_turn(self) -> None:
        with self._lock:
            at = max(self._next, time.monotonic())
            self._next = at + self._gap
        time.sleep(max(0.0, at - time.monotonic()))


class Clients:
    def __init__(self, base_url: str, plan: SoakPlan, run_id: str, admin_token: str) -> None:
        self.base_url = base_url
        self.plan = plan
        self.run_id = run_id
        self.admin_token = admin_token
        self.traffic = Traffic()
        self._numbers = iter(range(plan.orders))
        self._numbers_lock = threading.Lock()
        self._pacer = Pacer(plan.order_rate)
        self._stop_reading = threading.Event()
        self._rng = random.Random(plan.seed)

    def key(self, n: int) -> str:
        return f"soak-{self.run_id}-{n}"

    def client(self) -> httpx.Client:
        # uvicorn closes a connection idle for 5 s (timeout_keep_alive), httpx keeps one for 5 s
        # (keepalive_expiry): a request sent on a connection idle just under 5 s can cross the
        # server's close and get no answer. Clients must drop idle connections first.
        return httpx.Client(
            base_url=self.base_url,
            timeout=self.plan.request_timeout,
            limits=httpx.Limits(keepalive_expiry=KEEPALIVE_SECONDS),
        )

    # ---- placing orders --------------------------------------------------------------------

    def place_all(self) -> None:
        """Run the placing threads until every order is created (the reader runs alongside)."""
        reader = threading.Thread(target=self._read_loop, name="soak-reader", daemon=True)
        reader.start()
        try:
            with ThreadPoolExecutor(self.plan.clients, thread_name_prefix="soak-client") as pool:
                for future in [pool.submit(self._client_loop) for _ in range(self.plan.clients)]:
                    future.result()
        finally:
            self._stop_reading.set()
            reader.join(timeout=60)

    def _next_number(self) -> int | None:
        with self._numbers_lock:
            return next(self._numbers, None)

    def _client_loop(self) -> None:
        with self.client() as http, ThreadPoolExecutor(1) as twin:
            while (n := self._next_number()) is not None:
                self._pacer.wait_turn()
                try:
                    self._place(http, twin, n)
                except GaveUpError as exc:
                    self.traffic.problem(str(exc))

    def _place(self, http: httpx.Client, twin: ThreadPoolExecutor, n: int) -> None:
        if n % self.plan.race_every == 0:
            self._race(http, twin, n)
            return
        placed = self.post_until_created(http, n)
        if n % self.plan.replay_every == 0:
            self._replay(http, n, placed)

    def body(self, n: int) -> dict[str, Any]:
        return {"userId": self.key(n), "items": order_lines(n)}

    def post_until_created(self, http: httpx.Client, n: int, *, record: bool = True) -> Placed:
        """POST /orders with the order's key until it answers 201; 503, 409 IDEMPOTENCY_REQUEST_IN_FLIGHT
        (the key's claim held by a request still running, or by one answered 503 that could not release
        it) and lost answers are retried with the same key (what a careful client does); anything else
        is a problem, retried too."""
        attempts = 0
        give_up_at = time.monotonic() + self.plan.give_up_after
        while True:
            attempts += 1
            if time.monotonic() > give_up_at:
                raise GaveUpError(f"order {n}: no 201 after {attempts - 1} tries in {self.plan.give_up_after:g} s")
            response = self._post(http, n)
            if response is not None and response.status_code == 201:
                placed = Placed(self.key(n), response.json(), attempts)
                if record:
                    with self.traffic.lock:
                        self.traffic.placed[n] = placed
                return placed
            if response is not None and response.status_code not in (500, 503) and not in_flight(response):
                self.traffic.problem(f"order {n}: {response.status_code} {response.text[:300]}")
            time.sleep(self._rng.uniform(*RETRY_PAUSE))

    def _post(self, http: httpx.Client, n: int) -> httpx.Response | None:
        start = time.time()
        try:
            response = http.post("/orders", json=self.body(n), headers={"Idempotency-Key": self.key(n)})
        except httpx.TransportError as exc:
            self.traffic.record(POST_ORDERS, None, start, f"{type(exc).__name__}: {exc}")
            return None
        self.traffic.record(POST_ORDERS, response, start)
        return response

    def _replay(self, http: httpx.Client, n: int, placed: Placed) -> None:
        """The same request again after its 201: the same order, marked as a replay."""
        again = self.post_until_created(http, n, record=False)
        if again.order != placed.order:
            self.traffic.problem(f"order {n}: a repeat with its key answered another order: {again.order}")
        with self.traffic.lock:
            self.traffic.replays += 1

    def _race(self, http: httpx.Client, twin: ThreadPoolExecutor, n: int) -> None:
        """Two requests with one key at once (a client that timed out and retried): one order."""
        other = twin.submit(self._twin_post, n)
        mine = self.post_until_created(http, n)
        theirs = other.result()
        if mine.order["id"] != theirs.order["id"]:
            self.traffic.problem(f"order {n}: two requests with one key made two orders")
        with self.traffic.lock:
            self.traffic.races += 1

    def _twin_post(self, n: int) -> Placed:
        with self.client() as http:
            return self.post_until_created(http, n, record=False)

    # ---- reading ---------------------------------------------------------------------------

    def _read_loop(self) -> None:
        """GET an order placed earlier, the health check, and now and then the admin stats."""
        admin = {"Authorization": f"Bearer {self.admin_token}"}
        rounds = 0
        with self.client() as http:
            while not self._stop_reading.wait(0.05):
                rounds += 1
                with self.traffic.lock:
                    known = list(self.traffic.placed.values())[-200:]
                if known:
                    placed = self._rng.choice(known)
                    self._get(http, "GET /orders/{id}", f"/orders/{placed.order['id']}", expect=200)
                self._get(http, HEALTH, "/health", expect=200)
                if rounds % 20 == 0:
                    self._get(http, "GET /admin/queue/stats", "/admin/queue/stats", expect=200, headers=admin)

    def _get(
        self, http: httpx.Client, route: str, path: str, *, expect: int, headers: dict[str, str] | None = None
    ) -> None:
        start = time.time()
        try:
            response = http.get(path, headers=headers)
        except httpx.TransportError as exc:
            self.traffic.record(route, None, start, f"{type(exc).__name__}: {exc}")
            return
        self.traffic.record(route, response, start)
        if response.status_code != expect and response.status_code not in (500, 503):
            self.traffic.problem(f"{route} {path}: {response.status_code} {response.text[:300]}")
