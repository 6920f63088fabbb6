"""Load on loopback: `xiangchuang serve --workers 2` on PostgreSQL under 50 concurrent clients.

Phases (each bounded, ``--seconds`` default 20, after a 2 s warm-up), all with 50 keep-alive connections:

1. ``GET /healthz`` — the baseline: the server's ceiling for a request that does no work;
2. ``POST /api/v1/checkup`` with the README's example case — 政策体检 through the JSON API (rate limit
   counted in the database, the parameters in force (cached ≤ 1 s), engine run, JSON);
3. ``GET /me`` signed in as an applicant, and ``GET /staff/queue`` signed in as a window clerk (password +
   TOTP) over ``--applications`` applications of the clerk's district — authenticated pages (session
   lookup, scope query, template);
4. the target as worded: the 50 clients together offer ``--rate`` check-ups/s (default 200) on a fixed
   schedule (open loop: a late answer does not delay the schedule; latency counts from the scheduled
   send time, so a client that falls behind is charged for it).

Phases 1–3 are closed loops (each client sends its next request as soon as the last is answered): they
measure the ceiling, and by Little's law their latency is 50 / throughput. Phase 4 is the target's.

The client is a lean asyncio HTTP/1.1 client (pre-encoded requests, one connection per client, uvloop
when installed), so it is not the bottleneck on this 2-core machine: its own CPU per request is reported
(``client_cpu_ms_per_req``), with the server workers' CPU and the PostgreSQL backends' CPU (found by
``application_name``) per request and the load average, so a reader can judge a shared machine. Each
client sends its own address as ``X-Forwarded-For`` (the workers trust 127.0.0.1 as nginx would be), so
the per-address rate limits see 50 clients, as in production, and are set high enough not to refuse
them. When ``wrk`` is installed the healthz and check-up closed loops are repeated with it. Throughput,
p50/p95/p99 latency and errors (any non-2xx or transport error) go to benchmarks/results/web_load.json.
Target (issue 7): ≥ 200 check-ups/s with p95 ≤ 100 ms and 0 errors.

    .venv/bin/python benchmarks/web_load_bench.py [--seconds 20] [--clients 50] [--workers 2] [--rate 200]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psutil  # noqa: E402
import pyotp  # noqa: E402
from sqlalchemy import event, text  # noqa: E402
from tests.registry.factories import Registry  # noqa: E402

from xiangchuang.applications import service as applications  # noqa: E402
from xiangchuang.audit import audit_key  # noqa: E402
from xiangchuang.crypto import FieldCipher, generate_keyring  # noqa: E402
from xiangchuang.db import make_engine, make_sessionmaker, transaction  # noqa: E402
from xiangchuang.dbmigrate import upgrade  # noqa: E402
from xiangchuang.registry.pii import Pii  # noqa: E402
from xiangchuang.users.service import create_user, new_totp_secret  # noqa: E402

PG_URL = os.environ.get("XIANGCHUANG_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SCHEMA = "xc_bench_web"
APP_NAME = "xc_bench_web"  # the server's PostgreSQL application_name: its backends' CPU is measured
PASSWORD = "Lemon-tree-on-the-hill"
DISTRICT = 500101
CASE = {
    "on": "2024-03-20",
    "person": {"id": "P1", "groups": ["returning_migrant_worker"], "first_business": True},
    "business": {
        "id": "B1",
        "district": "500101",
        "kind": "enterprise",
        "registration_date": "2022-03-10",
        "status": "normal",
        "years": {"2023": {"employer_si_paid_fen": 8640000}},
    },
    "received": [],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(tmp: Path, applications_count: int) -> str:
    """A fresh schema: an applicant, a window clerk of 500101 (TOTP) and ``applications_count`` draft
    applications (代办) in 500101 for the clerk's queue. Returns the clerk's TOTP secret."""
    base = make_engine(PG_URL)
    with base.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
    base.dispose()
    engine = make_engine(PG_URL)

    @event.listens_for(engine, "connect")
    def _path(dbapi_conn, _rec):  # type: ignore[no-untyped-def]
        cur = dbapi_conn.cursor()
        cur.execute(f'SET search_path TO "{SCHEMA}"')
        cur.close()
        dbapi_conn.commit()

    upgrade(engine)
    ring = generate_keyring(tmp / "keyring.json")
    cipher = FieldCipher(ring)
    akey = audit_key(ring)
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        reg = Registry(conn, Pii(cipher))
        person = reg.person(groups=["returning_migrant_worker"])
        business = reg.business(founder=person, registration_date=dt.date(2022, 3, 10), district=DISTRICT)
        subjects = []
        for i in range(applications_count):
            founder = reg.person(no=f"P-BENCH-{i}", groups=["returning_migrant_worker"])
            reg.business(
                no=f"B-BENCH-{i}", founder=founder, registration_date=dt.date(2022, 3, 10), district=DISTRICT
            )
            subjects.append((f"P-BENCH-{i}", f"B-BENCH-{i}"))
    secret = new_totp_secret()
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as s:
        for login, role, extra in (
            ("bench.user", "applicant", {"person_id": person, "business_id": business}),
            ("bench.clerk", "window_clerk", {"district": DISTRICT, "totp_secret": secret}),
        ):
            create_user(
                s,
                login=login,
                display_name="压测用户",
                role=role,
                password=PASSWORD,
                actor="system",
                audit_key=akey,
                cipher=cipher,
                now=now,
                **extra,
            )
    with transaction(sessions) as s:
        for person_no, business_no in subjects:
            applications.create_application(
                s,
                kind="startup_subsidy",
                subject_key=business_no,
                period="2024",
                district=DISTRICT,
                applicant_user=person_no,
                actor="bench.clerk",
                role="window_clerk",
                actor_district=DISTRICT,
                audit_key=akey,
                form={"说明": "压测申请"},
                now=now,
            )
    engine.dispose()
    return secret


def start_server(tmp: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XIANGCHUANG_")}
    sep = "&" if "?" in PG_URL else "?"
    env.update(
        {
            "XIANGCHUANG_DATABASE_URL": f"{PG_URL}{sep}options={quote(f'-csearch_path={SCHEMA}')}"
            f"&application_name={APP_NAME}",
            "XIANGCHUANG_DATA_DIR": str(tmp),
            "XIANGCHUANG_KEYRING_FILE": str(tmp / "keyring.json"),
            "XIANGCHUANG_RATE_CHECKUP": "100000/60",
            "XIANGCHUANG_RATE_LOGIN": "1000/60",
            "XIANGCHUANG_TRUSTED_PROXIES": "127.0.0.1",
        }
    )
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "xiangchuang"),
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=(tmp / "server.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until_ready(proc, port, tmp)
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)  # the server and its workers
        raise
    return proc


def wait_until_ready(proc: subprocess.Popen[bytes], port: int, tmp: Path) -> None:
    deadline = time.monotonic() + 300  # a loaded machine imports slowly
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.3)
    raise SystemExit(f"server did not start: {(tmp / 'server.log').read_text()[-2000:]}")


def _csrf(html: str) -> str:
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token, "no CSRF field"
    return token.group(1)


def sign_in(base: str, login: str, totp_secret: str | None = None) -> str:
    with httpx.Client(base_url=base, timeout=30) as c:
        r = c.post(
            "/login",
            data={"login": login, "password": PASSWORD, "csrf_token": _csrf(c.get("/login").text)},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        if totp_secret:
            r = c.post(
                "/login/totp",
                data={
                    "code": pyotp.TOTP(totp_secret).now(),
                    "csrf_token": _csrf(c.get("/login/totp").text),
                },
                follow_redirects=False,
            )
            assert r.status_code == 303, r.text
        return str(c.cookies["xc_session"])


def percentile(sorted_ms: list[float], p: float) -> float:
    if not sorted_ms:
        return float("nan")
    k = min(len(sorted_ms) - 1, max(0, round(p / 100 * len(sorted_ms) + 0.5) - 1))
    return round(sorted_ms[k], 2)


# --- the lean client -----------------------------------------------------------------------------------


def raw_request(method: str, path: str, port: int, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Connection:
    """One keep-alive HTTP/1.1 connection: send a pre-encoded request, read the whole response (by
    Content-Length, or chunked), return the status."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, raw: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        lower = head.lower()
        m = re.search(rb"\r\ncontent-length:\s*(\d+)", lower)
        if m:
            await self.reader.readexactly(int(m.group(1)))
        elif b"\r\ntransfer-encoding: chunked" in lower:
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        else:
            raise ConnectionError("response without a length")
        if b"\r\nconnection: close" in lower:
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class Meters:
    """CPU seconds of the client, the server's workers and the server's PostgreSQL backends (found by
    ``application_name`` at each reading; a backend that exits between two readings loses its last
    increment, so the PostgreSQL figure is a lower bound)."""

    def __init__(self, server: subprocess.Popen[bytes]) -> None:
        self.server = psutil.Process(server.pid)
        self.engine = make_engine(PG_URL)

    @staticmethod
    def _cpu(proc: psutil.Process) -> float:
        try:
            t = proc.cpu_times()
            return float(t.user + t.system)
        except psutil.Error:
            return 0.0

    def _pg(self) -> dict[int, float]:
        with self.engine.connect() as conn:
            pids = [
                int(r[0])
                for r in conn.execute(
                    text("SELECT pid FROM pg_stat_activity WHERE application_name = :n"), {"n": APP_NAME}
                )
            ]
        out = {}
        for pid in pids:
            with contextlib.suppress(psutil.Error):
                out[pid] = self._cpu(psutil.Process(pid))
        return out

    def snapshot(self) -> dict[str, Any]:
        server = sum(self._cpu(p) for p in [self.server, *self.server.children(recursive=True)])
        return {"client": time.process_time(), "server": server, "pg": self._pg(), "t": time.perf_counter()}


def per_request(before: dict[str, Any], after: dict[str, Any], n: int) -> dict[str, float]:
    wall = after["t"] - before["t"]
    used = {
        "client": after["client"] - before["client"],
        "server": after["server"] - before["server"],
        "postgres": sum(cpu - before["pg"].get(pid, 0.0) for pid, cpu in after["pg"].items()),
    }
    out: dict[str, float] = {}
    for name, seconds in used.items():
        out[f"{name}_cpu_ms_per_req"] = round(1000 * seconds / max(n, 1), 3)
        out[f"{name}_cpu_cores"] = round(seconds / wall, 2) if wall else float("nan")
    return out


async def phase(
    name: str,
    port: int,
    clients: int,
    seconds: float,
    make_raw: Callable[[int], bytes],
    meters: Meters,
    warmup: float = 2.0,
    rate: float | None = None,
) -> dict[str, Any]:
    """``clients`` connections, each sending its next request as soon as the last one is answered (closed
    loop) or, with ``rate``, on a fixed schedule adding up to ``rate`` requests/s (open loop)."""
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors = 0
    measuring = False
    stop_at = float("inf")
    late = 0

    async def client(i: int) -> None:
        nonlocal errors, late
        raw = make_raw(i)
        conn = Connection(port)
        interval = clients / rate if rate else 0.0
        next_at = time.perf_counter() + (i * interval / clients)
        try:
            while True:
                now = time.perf_counter()
                if now >= stop_at:
                    return
                if rate:
                    if next_at > now:
                        await asyncio.sleep(next_at - now)
                    elif measuring and now - next_at > 0.001:
                        late += 1
                    t0 = next_at
                    next_at += interval
                else:
                    t0 = now
                try:
                    status = await conn.request(raw)
                    code, ok = str(status), 200 <= status < 300
                except (OSError, asyncio.IncompleteReadError, ConnectionError, ValueError) as exc:
                    conn.close()
                    code, ok = type(exc).__name__, False
                if measuring and t0 < stop_at:
                    latencies.append((time.perf_counter() - t0) * 1000)
                    statuses[code] = statuses.get(code, 0) + 1
                    if not ok:
                        errors += 1
        finally:
            conn.close()

    tasks = [asyncio.create_task(client(i)) for i in range(clients)]
    await asyncio.sleep(warmup)
    measuring = True
    before = meters.snapshot()
    load_before = os.getloadavg()[0]
    stop_at = time.perf_counter() + seconds
    await asyncio.sleep(seconds)
    after = meters.snapshot()
    elapsed = after["t"] - before["t"]
    await asyncio.gather(*tasks)
    latencies.sort()
    result: dict[str, Any] = {
        "phase": name,
        "mode": f"open loop at {rate:g}/s" if rate else "closed loop",
        "clients": clients,
        "seconds": round(elapsed, 2),
        "requests": len(latencies),
        "throughput_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
        "max_ms": round(latencies[-1], 2) if latencies else None,
        "errors": errors,
        "statuses": statuses,
        **per_request(before, after, len(latencies)),
        "load_avg_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    if rate:
        # Sends that left more than 1 ms after their scheduled time (the client or its connection was
        # behind): the latency above includes that wait.
        result["late_sends"] = late
    print(json.dumps(result, ensure_ascii=False))
    return result


def run_phase(*args: Any, **kw: Any) -> dict[str, Any]:
    try:
        import uvloop

        return uvloop.run(phase(*args, **kw))
    except ImportError:
        return asyncio.run(phase(*args, **kw))


WRK_SCRIPT = """
wrk.method = "{method}"
wrk.body = [==[{body}]==]
{headers}
local n = 0
request = function()
  n = n + 1
  wrk.headers["X-Forwarded-For"] = "10.78." .. (n % 4) .. "." .. (n % 50 + 1)
  return wrk.format()
end
"""


def _ms(text_value: str) -> float:
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text_value.endswith(unit):
            return round(float(text_value[: -len(unit)]) * factor, 2)
    return float("nan")


def wrk_phase(
    name: str, url: str, clients: int, seconds: float, *, method: str, body: str, headers: dict[str, str]
) -> dict[str, Any] | None:
    """The same closed loop driven by wrk (C), when installed."""
    binary = shutil.which("wrk")
    if binary is None:
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        lines = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items())
        f.write(WRK_SCRIPT.format(method=method, body=body, headers=lines))
        script = f.name
    try:
        # warm-up, then the measured run
        subprocess.run(
            [binary, "-t1", f"-c{clients}", "-d2s", "-s", script, url], capture_output=True, check=False
        )
        out = subprocess.run(
            [
                binary,
                "-t1",
                f"-c{clients}",
                f"-d{int(seconds)}s",
                "--timeout",
                "30s",
                "--latency",
                "-s",
                script,
                url,
            ],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
    finally:
        os.unlink(script)
    pct = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", out, re.M))
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(int(x) for x in sock.groups()) if sock else 0)
    result = {
        "phase": name,
        "client": "wrk -t1",
        "clients": clients,
        "seconds": seconds,
        "requests": int(total.group(1)) if total else None,
        "throughput_per_s": float(rps.group(1)) if rps else None,
        "p50_ms": _ms(pct["50"]) if "50" in pct else None,
        "p90_ms": _ms(pct["90"]) if "90" in pct else None,
        "p99_ms": _ms(pct["99"]) if "99" in pct else None,
        "errors": errors,
        "note": "wrk reports p50/p75/p90/p99 (no p95)",
    }
    print(json.dumps(result, ensure_ascii=False))
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rate", type=float, default=200.0, help="offered check-ups/s in the paced phase")
    ap.add_argument("--applications", type=int, default=200, help="applications in the clerk's queue")
    ap.add_argument("--no-wrk", action="store_true", help="skip the wrk phases")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "web_load.json")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="xc-webload-") as tmp_dir:
        tmp = Path(tmp_dir)
        secret = prepare(tmp, args.applications)
        port = free_port()
        proc = start_server(tmp, port, args.workers)
        base = f"http://127.0.0.1:{port}"
        try:
            meters = Meters(proc)
            applicant = sign_in(base, "bench.user")
            clerk = sign_in(base, "bench.clerk", secret)
            body = json.dumps(CASE).encode()

            def ip(i: int) -> str:
                return f"10.77.{i // 250}.{i % 250 + 1}"

            def health(i: int) -> bytes:
                return raw_request("GET", "/healthz", port, {"X-Forwarded-For": ip(i)})

            def checkup(i: int) -> bytes:
                headers = {"Content-Type": "application/json", "X-Forwarded-For": ip(i)}
                return raw_request("POST", "/api/v1/checkup", port, headers, body)

            def page(path: str, cookie: str) -> Callable[[int], bytes]:
                def make(i: int) -> bytes:
                    headers = {"Cookie": f"xc_session={cookie}", "X-Forwarded-For": ip(i)}
                    return raw_request("GET", path, port, headers)

                return make

            # Every phase's requests must succeed before any is timed.
            for make in (health, checkup, page("/me", applicant), page("/staff/queue", clerk)):
                raw = make(0)
                status = run_phase_probe(port, raw)
                assert status == 200, f"{raw[:60]!r} → {status}"

            results = []
            for name, fn in (
                ("healthz", health),
                ("checkup_api", checkup),
                ("page /me", page("/me", applicant)),
                ("page /staff/queue", page("/staff/queue", clerk)),
            ):
                results.append(run_phase(name, port, args.clients, args.seconds, fn, meters))
            # The target as stated: 200 check-ups/s offered by the 50 clients, p95 ≤ 100 ms?
            paced = run_phase(
                "checkup_api_paced", port, args.clients, args.seconds, checkup, meters, rate=args.rate
            )
            results.append(paced)
            wrk_results: list[dict[str, Any]] = []
            if not args.no_wrk:
                extra = [
                    wrk_phase(
                        "healthz",
                        f"{base}/healthz",
                        args.clients,
                        args.seconds,
                        method="GET",
                        body="",
                        headers={},
                    ),
                    wrk_phase(
                        "checkup_api",
                        f"{base}/api/v1/checkup",
                        args.clients,
                        args.seconds,
                        method="POST",
                        body=body.decode(),
                        headers={"Content-Type": "application/json"},
                    ),
                ]
                wrk_results = [r for r in extra if r is not None]
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        cleanup = make_engine(PG_URL)
        with cleanup.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        cleanup.dispose()

    target = {"throughput_per_s": args.rate, "p95_ms": 100, "errors": 0}

    def meets(r: dict[str, Any]) -> bool:
        return (
            r["throughput_per_s"] >= 0.98 * target["throughput_per_s"]
            and r["p95_ms"] <= target["p95_ms"]
            and r["errors"] == 0
        )

    doc = {
        "benchmark": "web_load",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_avg_at_end": os.getloadavg(),
            "shared": "other jobs may run on the same 2 cores: see each phase's load_avg_1min and CPU",
        },
        "server": {"command": f"xiangchuang serve --workers {args.workers}", "database": "postgresql"},
        "client": "lean asyncio HTTP/1.1 (uvloop if installed), one process, one keep-alive connection "
        "per client, one X-Forwarded-For address per client",
        "phases": results,
        "wrk_phases": wrk_results,
        "target_checkup": target,
        "target_phase": "checkup_api_paced",
        "target_met": meets(paced),
        "closed_loop_checkup_meets_throughput": results[1]["throughput_per_s"] >= args.rate
        and results[1]["errors"] == 0,
        "note": "Closed loop with 50 clients: mean latency = 50 / throughput (Little's law), so p95 ≤ 100 ms "
        "there would need ≥ 500 responses/s; the target's wording (200 check-ups/s from 50 clients) is the "
        "paced phase. CPU per request: client, server workers, PostgreSQL backends (same 2 cores).",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    print(
        f"checkup target (≥{args.rate:g}/s offered by {args.clients} clients, p95 ≤ 100 ms, 0 errors): "
        f"{'met' if doc['target_met'] else 'NOT met'}; wrote {args.out}"
    )


def run_phase_probe(port: int, raw: bytes) -> int:
    async def once() -> int:
        conn = Connection(port)
        try:
            return await conn.request(raw)
        finally:
            conn.close()

    return asyncio.run(once())


if __name__ == "__main__":
    main()
