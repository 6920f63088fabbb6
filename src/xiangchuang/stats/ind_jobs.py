"""Quarterly figures of labour demand and job matching (clause 4.11): posts published, positions offered,
hires through the job board (by seeker category), job seekers registered, on-job trainees — per district
and quarter, in their own sheet 用工需求."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, Select, String, cast, literal, null, select

from xiangchuang.jobs.catalogue import SEEKER_CATEGORIES
from xiangchuang.models import JobApplication, JobPost, JobSeeker, OnjobTraining
from xiangchuang.stats.indicators import Group, Indicator, register, register_group
from xiangchuang.stats.periods import TimeKind, Window

register_group(Group("labour", "用工需求", 80))
CATEGORY_DIMS = tuple(SEEKER_CATEGORIES.items())


def _window(column: Any, w: Window, kind: TimeKind) -> list[Any]:
    lo = w.since(kind)
    out = [column < w.until(kind)]
    if lo is not None:
        out.append(column >= lo)
    return out


def _no_dim() -> Any:
    return literal("", String())


def _no_app() -> Any:
    return cast(null(), Integer())


def src_posts(amount: str) -> Any:
    def source(w: Window) -> Select[Any]:
        value: Any = JobPost.positions if amount == "positions" else literal(1, Integer())
        return select(
            JobPost.id.label("entity"),
            JobPost.district.label("district"),
            JobPost.published_on.label("at"),
            _no_dim().label("dim"),
            value.label("amount"),
            _no_app().label("application_id"),
        ).where(JobPost.published_on.is_not(None), *_window(JobPost.published_on, w, "date"))

    return source


def src_hires(w: Window) -> Select[Any]:
    return (
        select(
            JobApplication.id.label("entity"),
            JobPost.district.label("district"),
            JobApplication.hire_date.label("at"),
            JobSeeker.category.label("dim"),
            literal(1, Integer()).label("amount"),
            _no_app().label("application_id"),
        )
        .join(JobPost, JobPost.id == JobApplication.post_id)
        .join(JobSeeker, JobSeeker.id == JobApplication.seeker_id)
        .where(JobApplication.state == "hired", *_window(JobApplication.hire_date, w, "date"))
    )


def src_seekers(w: Window) -> Select[Any]:
    return select(
        JobSeeker.id.label("entity"),
        JobSeeker.district.label("district"),
        JobSeeker.created_at.label("at"),
        JobSeeker.category.label("dim"),
        literal(1, Integer()).label("amount"),
        _no_app().label("application_id"),
    ).where(*_window(JobSeeker.created_at, w, "instant"))


def src_trainees(w: Window) -> Select[Any]:
    return select(
        OnjobTraining.id.label("entity"),
        OnjobTraining.district.label("district"),
        OnjobTraining.completion_date.label("at"),
        _no_dim().label("dim"),
        OnjobTraining.trainees.label("amount"),
        _no_app().label("application_id"),
    ).where(*_window(OnjobTraining.completion_date, w, "date"))


register(
    Indicator(
        "labour_posts_published",
        "发布用工岗位",
        "个",
        "labour",
        src_posts("count"),
        "date",
        entity="job_posts",
        definition="返乡入乡创业企业报送、经区县核实后在招聘岗位中发布的用工需求，按发布日期计入季度，按工作地点区县统计。",
    )
)
register(
    Indicator(
        "labour_positions_published",
        "发布岗位招聘人数",
        "人",
        "labour",
        src_posts("positions"),
        "date",
        measure="sum",
        entity="job_posts",
        definition="当季发布的用工需求的招聘人数之和。",
    )
)
register(
    Indicator(
        "labour_hires",
        "通过岗位对接录用",
        "人",
        "labour",
        src_hires,
        "date",
        dims=CATEGORY_DIMS,
        dim_label="人员类别",
        dim_total=True,
        entity="job_applications",
        definition="经本平台应聘并由用人单位录用（已生成用工记录）的人次，按入职日期计入季度，按岗位所在区县统计。",
    )
)
register(
    Indicator(
        "labour_seekers_registered",
        "新增求职登记",
        "人",
        "labour",
        src_seekers,
        "instant",
        dims=CATEGORY_DIMS,
        dim_label="人员类别",
        dim_total=True,
        entity="job_seekers",
        definition="当季新办理求职登记的人数（返乡农民工、高校毕业生、登记失业人员等），按期望工作区县统计。",
    )
)
register(
    Indicator(
        "labour_onjob_trainees",
        "岗位培训合格人数",
        "人",
        "labour",
        src_trainees,
        "date",
        measure="sum",
        entity="onjob_trainings",
        definition="企业技能岗位职工培训及合作社、协会、手工艺传承人主体培训的合格人数，按结业日期计入季度。",
    )
)
