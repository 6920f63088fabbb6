"""Training indicators (clauses 2.4–2.5, in the quarterly statistics of 5.13): trainees by course kind,
completions, completers who later registered a business, and classes by mode — per district (where the
class is held) and quarter."""

from __future__ import annotations

from typing import Any
from typing import cast as typed

from sqlalchemy import Integer, Select, String, and_, cast, exists, literal, null, select

from xiangchuang.models import Business, Course, Enrolment, Founder, TrainingClass
from xiangchuang.registry.repository import FOUNDING_ROLES
from xiangchuang.stats.indicators import Group, Indicator, register, register_group
from xiangchuang.stats.periods import TimeKind, Window

KIND_DIMS = (
    ("syb", "SYB（创办你的企业）"),
    ("iyb", "IYB（改善你的企业）"),
    ("online", "网络创业培训"),
    ("skills", "技能培训"),
    ("package", "培训包"),
)
MODE_DIMS = (
    ("on_site", "线下集中培训"),
    ("direct_train", "培训下乡“直通车”"),
    ("night_school", "农民夜校"),
    ("remote", "远程培训"),
    ("online", "网络培训"),
)
TRAINEE_STATES = ("enrolled", "completed", "not_completed")

register_group(Group("training", "创业培训", 70))


def _window(column: Any, w: Window, kind: TimeKind) -> list[Any]:
    lo = w.since(kind)
    out = [column < w.until(kind)]
    if lo is not None:
        out.append(column >= lo)
    return out


def _base(at: Any, dim: Any) -> Select[Any]:
    stmt = select(
        Enrolment.id.label("entity"),
        TrainingClass.district.label("district"),
        at.label("at"),
        dim.label("dim"),
        literal(1, Integer()).label("amount"),
        cast(null(), Integer()).label("application_id"),
    ).join(TrainingClass, TrainingClass.id == Enrolment.class_id)
    return typed("Select[Any]", stmt)


def src_trainees(w: Window) -> Select[Any]:
    return (
        _base(TrainingClass.start_date, Course.kind)
        .join(Course, Course.id == TrainingClass.course_id)
        .where(Enrolment.state.in_(TRAINEE_STATES), *_window(TrainingClass.start_date, w, "date"))
    )


def src_completions(w: Window) -> Select[Any]:
    return (
        _base(Enrolment.completion_date, Course.kind)
        .join(Course, Course.id == TrainingClass.course_id)
        .where(Enrolment.state == "completed", *_window(Enrolment.completion_date, w, "date"))
    )


def src_completers_registered(w: Window) -> Select[Any]:
    """Completed trainees who founded a business registered on or after their completion date."""
    later = exists(
        select(Founder.id)
        .join(Business, Business.id == Founder.business_id)
        .where(
            and_(
                Founder.person_id == Enrolment.person_id,
                Founder.role.in_(FOUNDING_ROLES),
                Business.registration_date >= Enrolment.completion_date,
            )
        )
    )
    return (
        _base(Enrolment.completion_date, Course.kind)
        .join(Course, Course.id == TrainingClass.course_id)
        .where(Enrolment.state == "completed", later, *_window(Enrolment.completion_date, w, "date"))
    )


def src_classes(w: Window) -> Select[Any]:
    stmt = select(
        TrainingClass.id.label("entity"),
        TrainingClass.district.label("district"),
        TrainingClass.start_date.label("at"),
        cast(TrainingClass.mode, String()).label("dim"),
        literal(1, Integer()).label("amount"),
        cast(null(), Integer()).label("application_id"),
    ).where(*_window(TrainingClass.start_date, w, "date"))
    return typed("Select[Any]", stmt)


_WHERE = "按培训班举办区县计入区县。"
register(
    Indicator(
        "training_trainees",
        "参训人次按培训类别",
        "人次",
        "training",
        src_trainees,
        "date",
        dims=KIND_DIMS,
        dim_label="培训类别",
        dim_total=True,
        entity="enrolments",
        definition="正式报名的学员（不含候补、已退出），按培训班开班日期计入季度；同一人参加不同班分别计入。"
        + _WHERE,
        order=1,
    )
)
register(
    Indicator(
        "training_completions",
        "结业人数按培训类别",
        "人次",
        "training",
        src_completions,
        "date",
        dims=KIND_DIMS,
        dim_label="培训类别",
        dim_total=True,
        entity="enrolments",
        definition="出勤达到结业比例（参数 training.completion_attendance_ratio）并办理结业的学员，按结业日期计入季度。"
        + _WHERE,
        order=2,
    )
)
register(
    Indicator(
        "training_completers_registered",
        "结业后登记经营主体人数",
        "人次",
        "training",
        src_completers_registered,
        "date",
        dims=KIND_DIMS,
        dim_label="培训类别",
        dim_total=True,
        entity="enrolments",
        definition="结业学员中，登记库显示其在结业日当日或以后创办（法定代表人、经营者、合伙人）并登记经营主体的，"
        "按结业日期计入季度（截至统计之日的登记情况）。" + _WHERE,
        order=3,
    )
)
register(
    Indicator(
        "training_classes",
        "开班数按培训方式",
        "个",
        "training",
        src_classes,
        "date",
        dims=MODE_DIMS,
        dim_label="培训方式",
        dim_total=True,
        entity="classes",
        definition="按开班日期计入季度（含培训下乡“直通车”、农民夜校、远程、网络培训）。" + _WHERE,
        order=4,
    )
)
