"""Web commands, registered on the main Typer app: ``serve`` and ``demo-accounts``.

- ``xiangchuang serve --host 127.0.0.1 --port 8000 [--workers N]``: uvicorn with the app factory
  (:func:`xiangchuang.web.app.app_from_environment`), settings from XIANGCHUANG_* variables.
- ``xiangchuang demo-accounts``: in demo mode only, one account per role with a random strong password
  (and a TOTP secret for staff), printed once; nothing when they already exist.
"""

from __future__ import annotations

import inspect
from typing import Annotated, Any, Final

import typer
from sqlalchemy.exc import SQLAlchemyError

from xiangchuang.cli_common import console, fail
from xiangchuang.config import Settings, get_settings

__all__ = ["register"]

WORKER_STARTUP_SECONDS: Final = 120


def serve_command(
    host: Annotated[str, typer.Option("--host", help="监听地址（默认仅本机）")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="端口")] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="工作进程数")] = 1,
) -> None:
    """启动网页与 API 服务（uvicorn）：政策体检、项目说明、登录；OpenAPI 文档在 /docs。"""
    import uvicorn

    from xiangchuang.crypto import KeyRing, KeyRingError
    from xiangchuang.web.proxy import parse_trusted

    settings = get_settings()
    try:
        KeyRing.load(settings.keyring, settings.resolved_keyring_file)
        parse_trusted(settings.trusted_proxies)
    except (KeyRingError, ValueError) as exc:
        raise fail(str(exc)) from None
    console.print(f"乡创通网页服务：http://{host}:{port}/  （API 文档 /docs；按 Ctrl+C 停止）")
    extra: dict[str, Any] = {}
    if "timeout_worker_healthcheck" in inspect.signature(uvicorn.run).parameters:
        # uvicorn's supervisor kills a worker that does not answer its ping within this many seconds, and
        # a spawned worker answers only after importing the CLI and the app: 5 s (the default) is less
        # than that on a busy 2-core machine, and the workers were killed and respawned forever.
        extra["timeout_worker_healthcheck"] = WORKER_STARTUP_SECONDS
    uvicorn.run(
        "xiangchuang.web.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_config=None,
        # X-Forwarded-For is read by the app, and only from XIANGCHUANG_TRUSTED_PROXIES (web/proxy.py).
        proxy_headers=False,
        # Longer than nginx's upstream keep-alive (60 s), so the proxy, not the worker, closes idle
        # connections: otherwise a request sent just as the worker closes fails (seen in the load benchmark).
        timeout_keep_alive=75,
        server_header=False,
        **extra,
    )


def demo_accounts_command() -> None:
    """演示模式：为每个角色创建一个演示账号，随机强密码只显示这一次（已存在则不再创建）。"""
    from xiangchuang.audit import audit_key
    from xiangchuang.crypto import FieldCipher, KeyRing, KeyRingError
    from xiangchuang.db import make_engine, make_sessionmaker, transaction
    from xiangchuang.errors import DomainError
    from xiangchuang.users.demo_accounts import seed_demo_accounts
    from xiangchuang.users.service import SecurityPolicy

    settings = Settings()
    if not settings.demo:
        raise fail("只有演示模式（XIANGCHUANG_DEMO=true）才能创建演示账号；生产环境不设任何默认账号")
    try:
        ring = KeyRing.load(settings.keyring, settings.resolved_keyring_file)
    except KeyRingError as exc:
        raise fail(str(exc)) from None
    engine = make_engine(settings.resolved_database_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            accounts = seed_demo_accounts(
                session,
                settings=settings,
                cipher=FieldCipher(ring),
                audit_key=audit_key(ring),
                policy=SecurityPolicy.from_settings(settings),
            )
    except DomainError as exc:
        raise fail(exc.message) from None
    except SQLAlchemyError as exc:
        raise fail(f"数据库访问失败（是否已运行 xiangchuang demo？）：{type(exc).__name__}", 1) from None
    finally:
        engine.dispose()
    if not accounts:
        console.print(
            "演示账号已存在（密码只在创建时显示一次；xiangchuang demo --reset 会重建演示数据库和账号）"
        )
        return
    console.print("[bold]演示账号（密码只显示这一次，请立即记下；仅限演示）[/]")
    for a in accounts:
        line = f"{a.role_label}  登录名 {a.login}  密码 {a.password}"
        line += f"  区县 {a.district}" if a.district else ""
        line += f"  动态口令密钥（TOTP）{a.totp_secret}" if a.totp_secret else ""
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    console.print(
        "工作人员登录需动态口令：把密钥加入身份验证器，或用下面的命令显示当前口令（把“密钥”换成上面的密钥）："
    )
    # (on a line of its own and never wrapped, so that it can be copied as it is)
    console.print(
        "  .venv/bin/python -c \"import pyotp; print(pyotp.TOTP('密钥').now())\"",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
    app.command("demo-accounts")(demo_accounts_command)
