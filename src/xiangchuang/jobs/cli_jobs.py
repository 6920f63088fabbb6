"""Job board commands (clause 4.11): ``jobs-board`` lists published posts, ``jobs-match`` ranks posts for
a seeker (or seekers for a post) with the reasons, ``jobs-bench`` times matching on a synthetic market.

Registered on the main Typer app by one line in ``cli.py``. Read-only; the matches are shown as the city
office sees them (masked names, no ID numbers or phones).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Annotated, TypeVar

import typer
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from xiangchuang.cli_common import Table as RichTable
from xiangchuang.cli_common import console, district_option, fail, to_date
from xiangchuang.config import Settings
from xiangchuang.db import make_sessionmaker, transaction
from xiangchuang.engine.parameters import load_parameters
from xiangchuang.errors import DomainError
from xiangchuang.ids.masking import mask_name
from xiangchuang.jobs import repository as repo
from xiangchuang.jobs import service, synthetic
from xiangchuang.jobs.catalogue import TRADES, skills_text
from xiangchuang.jobs.matching import MatchParams, top_posts
from xiangchuang.registry.cli_import import _db_reason, _migrated_engine

__all__ = ["register"]

CITY = service.Actor("cli", "city_admin")
T = TypeVar("T")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""

    @app.command("jobs-board")
    def board(
        district_text: Annotated[str | None, typer.Option("--district", help="区县代码（6位数字）")] = None,
        trade: Annotated[str | None, typer.Option(help="行业：" + "、".join(TRADES))] = None,
        min_wage: Annotated[int | None, typer.Option(help="月工资（元）不低于")] = None,
    ) -> None:
        """列出已发布的招聘岗位（公开信息）。"""
        district = district_option(district_text)
        if trade is not None and trade not in TRADES:
            raise fail(f"行业须为 {'、'.join(TRADES)} 之一")
        f = repo.BoardFilter(
            district=district, trade=trade, min_wage_fen=None if min_wage is None else min_wage * 100
        )
        rows, total = _read(lambda s: repo.board(s, f, page=1))
        table = RichTable(title=f"招聘岗位（共 {total} 个，显示前 {len(rows)} 个）")
        for col in ("编号", "岗位", "单位", "地点", "月工资（元）", "人数", "技能"):
            table.add_column(col)
        for p, name in rows:
            table.add_row(
                p.post_no,
                p.title,
                name,
                f"{p.district} {p.town}",
                f"{p.wage_min_fen // 100}–{p.wage_max_fen // 100}",
                str(p.positions - p.hired),
                skills_text(p.skills) or "不限",
            )
        console.print(table)

    @app.command("jobs-match")
    def match(
        number: Annotated[str, typer.Argument(help="求职编号（QZ…）或岗位编号（GW…）")],
        on: Annotated[str | None, typer.Option(help="匹配日期 YYYY-MM-DD（默认今天）")] = None,
    ) -> None:
        """为求职者推荐岗位，或为岗位推荐人选，并列出理由。"""
        day = to_date(on)
        params = load_parameters()

        def run(s: Session) -> list[tuple[int, float, str, list[str]]]:
            if number.upper().startswith("GW"):
                found = service.matches_for_post(s, actor=CITY, post_no=number, params=params, on=day)
                return [
                    (m.rank, m.score, f"{m.seeker.seeker_no} {mask_name(m.person.name)}", m.reasons)
                    for m in found
                    if m.seeker is not None and m.person is not None
                ]
            found = service.matches_for_seeker(s, actor=CITY, seeker_no=number, params=params, on=day)
            return [
                (m.rank, m.score, f"{m.post.post_no} {m.post.title}（{m.business_name}）", m.reasons)
                for m in found
                if m.post is not None
            ]

        rows = _read(run)
        if not rows:
            console.print("没有符合条件的推荐。")
            return
        table = RichTable(title=f"{number} 的推荐")
        for col in ("名次", "匹配度", "推荐", "理由"):
            table.add_column(col)
        for rank, score, who, why in rows:
            table.add_row(str(rank), f"{score:.2f}", who, "；".join(why))
        console.print(table)

    @app.command("jobs-bench")
    def bench(
        seekers: Annotated[int, typer.Option(help="求职者人数")] = 100_000,
        posts: Annotated[int, typer.Option(help="岗位数")] = 20_000,
        workers: Annotated[int, typer.Option(help="线程数")] = 1,
    ) -> None:
        """在合成数据上计时：每名求职者推荐前 N 个岗位（完整对比见 benchmarks/bench_jobs_matching.py）。"""
        if not (1 <= seekers <= 1_000_000 and 1 <= posts <= 200_000 and 1 <= workers <= 8):
            raise fail("求职者 1–1,000,000 人，岗位 1–200,000 个，线程 1–8")
        mp = MatchParams.from_params(load_parameters(), dt.date.today())
        market = synthetic.population(seekers, posts)
        t0 = time.perf_counter()
        ranking = top_posts(market.seekers, market.posts, mp, workers=workers)
        took = time.perf_counter() - t0
        found = float((ranking.index[:, 0] >= 0).mean())
        console.print(f"{seekers:,} 名求职者 × {posts:,} 个岗位：{took:.2f} 秒；{found:.1%} 的求职者有推荐")


def _read(fn: Callable[[Session], T]) -> T:
    settings = Settings()
    engine = _migrated_engine(settings)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            return fn(session)
    except DomainError as exc:
        raise fail(exc.message, 1) from None
    except SQLAlchemyError as exc:
        raise fail(f"数据库错误（{_db_reason(exc)}）", 1) from None
    finally:
        engine.dispose()
