"""Where a request's time goes, in process: the ASGI app driven directly (no sockets, no HTTP parser, no
client), one request at a time, on PostgreSQL — per endpoint the wall time and CPU per request, and for
the check-up the part spent inside the rules engine (``xiangchuang.engine.api.evaluate``, timed around the
call) against the rest (web layer: middlewares, routing, dependencies, rate-limit statement, cached parameters,
JSON). ``GET /healthz`` is the baseline measured in the same run.

Same data as benchmarks/web_load_bench.py (an applicant, a window clerk of 500101 and ``--applications``
applications in the clerk's queue); sessions are started directly (no login round trip). Writes
benchmarks/results/web_request_cost.json.

    .venv/bin/python benchmarks/web_request_cost.py [--requests 2000] [--applications 200]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import benchmarks.web_load_bench as load  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

import xiangchuang.checkup.service as checkup_service  # noqa: E402
from xiangchuang.config import Settings  # noqa: E402
from xiangchuang.db import make_engine, transaction  # noqa: E402
from xiangchuang.models import User  # noqa: E402
from xiangchuang.users.service import start_session  # noqa: E402
from xiangchuang.web.app import create_app  # noqa: E402

ENGINE_TIME = [0.0]
ENGINE_CPU = [0.0]  # CPU of the thread inside the call: fair on a shared machine


def _timed_evaluate() -> None:
    original = checkup_service.evaluate

    def evaluate(*args: Any, **kw: Any) -> Any:
        t0, c0 = time.perf_counter(), time.thread_time()
        try:
            return original(*args, **kw)
        finally:
            ENGINE_TIME[0] += time.perf_counter() - t0
            ENGINE_CPU[0] += time.thread_time() - c0

    checkup_service.evaluate = evaluate  # type: ignore[assignment]


async def call(app: Any, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    status: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(scope, receive, send)
    return status[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--applications", type=int, default=200)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "web_request_cost.json")
    args = ap.parse_args()
    _timed_evaluate()
    with tempfile.TemporaryDirectory(prefix="xc-webcost-") as tmp_dir:
        tmp = Path(tmp_dir)
        load.prepare(tmp, args.applications)
        sep = "&" if "?" in load.PG_URL else "?"
        settings = Settings(
            database_url=f"{load.PG_URL}{sep}options={quote(f'-csearch_path={load.SCHEMA}')}",
            data_dir=tmp,
            keyring_file=tmp / "keyring.json",
            rate_checkup="1000000/60",
            rate_login="1000/60",
            trusted_proxies="127.0.0.1",
        )
        app = create_app(settings)
        cookies = {}
        with transaction(app.state.xc.sessions) as db:
            for login in ("bench.user", "bench.clerk"):
                user = db.execute(select(User).where(User.login == login)).scalar_one()
                cookies[login] = f"xc_session={start_session(db, user=user, stage='full').raw_id}".encode()
        body = json.dumps(load.CASE).encode()
        json_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        endpoints: list[tuple[str, str, str, list[tuple[bytes, bytes]], bytes]] = [
            ("healthz", "GET", "/healthz", [], b""),
            ("checkup_api", "POST", "/api/v1/checkup", json_headers, body),
            ("page /me", "GET", "/me", [(b"cookie", cookies["bench.user"])], b""),
            ("page /staff/queue", "GET", "/staff/queue", [(b"cookie", cookies["bench.clerk"])], b""),
        ]

        async def run(
            method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes, n: int
        ) -> None:
            for i in range(n):
                hdrs = [*headers, (b"x-forwarded-for", f"10.9.{i % 200}.1".encode())]
                status = await call(app, method, path, hdrs, body)
                assert status == 200, (path, status)

        results = []
        for name, method, path, headers, payload in endpoints:
            asyncio.run(run(method, path, headers, payload, 100))  # warm-up
            ENGINE_TIME[0] = ENGINE_CPU[0] = 0.0
            c0, w0 = time.process_time(), time.perf_counter()
            asyncio.run(run(method, path, headers, payload, args.requests))
            c1, w1 = time.process_time(), time.perf_counter()
            n = args.requests
            row = {
                "endpoint": name,
                "requests": n,
                "wall_ms_per_req": round(1000 * (w1 - w0) / n, 3),
                "cpu_ms_per_req": round(1000 * (c1 - c0) / n, 3),
            }
            if ENGINE_TIME[0]:
                row["engine_ms_per_req"] = round(1000 * ENGINE_TIME[0] / n, 3)
                row["outside_engine_ms_per_req"] = round(row["wall_ms_per_req"] - row["engine_ms_per_req"], 3)
                row["engine_cpu_ms_per_req"] = round(1000 * ENGINE_CPU[0] / n, 3)
                row["outside_engine_cpu_ms_per_req"] = round(
                    row["cpu_ms_per_req"] - row["engine_cpu_ms_per_req"], 3
                )
            print(json.dumps(row, ensure_ascii=False))
            results.append(row)
        app.state.xc.engine.dispose()
        cleanup = make_engine(load.PG_URL)
        with cleanup.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{load.SCHEMA}" CASCADE'))
        cleanup.dispose()

    base = results[0]["wall_ms_per_req"]
    for row in results:
        row["ratio_to_healthz"] = round(row["wall_ms_per_req"] / base, 1) if base else None
    doc = {
        "benchmark": "web_request_cost",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_avg": os.getloadavg(),
            "shared": "other jobs may run on the same 2 cores (load_avg): compare the CPU columns",
        },
        "how": "ASGI app in process, one request at a time, PostgreSQL; the engine's share timed around "
        "xiangchuang.engine.api.evaluate (wall and the calling thread's CPU); cpu_ms_per_req is the whole "
        "process's CPU (all threads), the fair figure when the machine is shared",
        "endpoints": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
