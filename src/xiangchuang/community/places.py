"""Places and trades (clause 5.14): 一县一品 / 一村一品 / 一乡一业 tags on businesses (the registry's
``business_tags``, the same codes its import uses), towns and villages with their tags, demonstration
villages and towns, 信息进村入户 and 电子商务进农村 projects with the businesses they reach, and a report by
tag (also as Excel). Keyword-only functions over a Session; never commit; every change is audited."""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from typing import Any, Final

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import Session

from xiangchuang.community.common import (
    REVIEW_ROLES,
    STAFF_ROLES,
    audit,
    business_by_no,
    check_district,
    district_label,
    not_future,
    require_district,
    require_staff,
    visible_districts,
)
from xiangchuang.errors import Conflict, NotFound, ValidationFailed
from xiangchuang.fields import text
from xiangchuang.models import (
    Business,
    BusinessTag,
    Place,
    PlaceDesignation,
    PlaceTag,
    ProjectReach,
    RuralProject,
)
from xiangchuang.users.service import UserScope

TAG_KINDS: Final = {
    "county_product": "一县一品",
    "village_product": "一村一品",
    "township_industry": "一乡一业",
}
PLACE_KINDS: Final = {"town": "乡镇（街道）", "village": "村（社区）"}
LEVELS: Final = {"national": "国家级", "provincial": "省（市）级", "city": "市级", "district": "区县级"}
PROJECT_KINDS: Final = {"info_to_village": "信息进村入户", "ecommerce_to_rural": "电子商务进农村"}


def _tag(tag_kind: str, tag: str) -> tuple[str, str]:
    if tag_kind not in TAG_KINDS:
        raise ValidationFailed(f"标签类型：应为 {'、'.join(TAG_KINDS.values())} 之一")
    return tag_kind, text(tag, "标签", max_len=60) or ""


def tag_business(
    session: Session, *, scope: UserScope, audit_key: bytes, business_no: str, tag_kind: str, tag: str
) -> BusinessTag:
    require_staff(scope, STAFF_ROLES)
    kind, value = _tag(tag_kind, tag)
    b = business_by_no(session, business_no)
    require_district(scope, b.district)
    if session.execute(
        select(BusinessTag.id).where(
            BusinessTag.business_id == b.id, BusinessTag.tag_kind == kind, BusinessTag.tag == value
        )
    ).first():
        raise Conflict(f"主体 {business_no} 已有标签 {TAG_KINDS[kind]}·{value}")
    row = BusinessTag(business_id=b.id, tag_kind=kind, tag=value)
    session.add(row)
    session.flush()
    audit(
        session,
        audit_key,
        scope,
        "community.business_tag",
        f"businesses:{business_no}",
        district=b.district,
        details={"tag_kind": kind, "tag": value},
    )
    return row


def _place(session: Session, code: str) -> Place:
    p = session.execute(select(Place).where(Place.place_code == code)).scalar_one_or_none()
    if p is None:
        raise NotFound(f"村镇代码 {code} 不存在")
    return p


def add_place(
    session: Session,
    *,
    scope: UserScope,
    audit_key: bytes,
    place_code: str,
    name: str,
    kind: str,
    district: int,
    town_code: str | None = None,
) -> Place:
    require_staff(scope, REVIEW_ROLES)
    code = (place_code or "").strip()
    if not code or len(code) > 20 or not code.isascii() or not code.replace("-", "").isalnum():
        raise ValidationFailed("村镇代码：须为 1–20 位字母、数字或连字符（如统计用区划代码）")
    name_v = text(name, "名称", max_len=60) or ""
    if kind not in PLACE_KINDS:
        raise ValidationFailed("类型：应为 乡镇（街道） 或 村（社区）")
    check_district(district)
    require_district(scope, district)
    town_id = None
    if kind == "village":
        if not town_code:
            raise ValidationFailed("所属乡镇：村（社区）须指定所属乡镇代码")
        town = _place(session, town_code)
        if town.kind != "town" or town.district != district:
            raise ValidationFailed(f"所属乡镇：{town_code} 不是{district_label(district)}的乡镇")
        town_id = town.id
    elif town_code:
        raise ValidationFailed("所属乡镇：乡镇本身不填所属乡镇")
    if session.execute(select(Place.id).where(Place.place_code == code)).first():
        raise Conflict(f"村镇代码 {code} 已存在")
    p = Place(place_code=code, name=name_v, kind=kind, district=district, town_id=town_id)
    session.add(p)
    session.flush()
    audit(
        session,
        audit_key,
        scope,
        "community.place_add",
        f"places:{p.id}",
        district=district,
        details={"kind": kind},
    )
    return p


def tag_place(
    session: Session, *, scope: UserScope, audit_key: bytes, place_code: str, tag_kind: str, tag: str
) -> PlaceTag:
    require_staff(scope, REVIEW_ROLES)
    kind, value = _tag(tag_kind, tag)
    p = _place(session, place_code)
    require_district(scope, p.district)
    if kind == "village_product" and p.kind != "village":
        raise ValidationFailed("标签类型：一村一品标签只能加在村（社区）上")
    if kind == "township_industry" and p.kind != "town":
        raise ValidationFailed("标签类型：一乡一业标签只能加在乡镇上")
    if session.execute(
        select(PlaceTag.id).where(PlaceTag.place_id == p.id, PlaceTag.tag_kind == kind, PlaceTag.tag == value)
    ).first():
        raise Conflict(f"{p.name} 已有标签 {TAG_KINDS[kind]}·{value}")
    row = PlaceTag(place_id=p.id, tag_kind=kind, tag=value)
    session.add(row)
    session.flush()
    audit(
        session,
        audit_key,
        scope,
        "community.place_tag",
        f"places:{p.id}",
        district=p.district,
        details={"tag_kind": kind, "tag": value},
    )
    return row


def designate(
    session: Session,
    *,
    scope: UserScope,
    audit_key: bytes,
    place_code: str,
    title: str,
    level: str,
    designated_on: dt.date,
    today: dt.date,
    reference: str | None = None,
    tag: str | None = None,
) -> PlaceDesignation:
    """A demonstration village or town: title, level, date, document."""
    require_staff(scope, REVIEW_ROLES)
    p = _place(session, place_code)
    require_district(scope, p.district)
    title_v = text(title, "称号", max_len=120) or ""
    if level not in LEVELS:
        raise ValidationFailed(f"级别：应为 {'、'.join(LEVELS.values())} 之一")
    not_future(designated_on, today, "认定日期")
    ref_v = text(reference, "认定文号", max_len=120, required=False)
    tag_v = text(tag, "示范产业", max_len=60, required=False)
    if session.execute(
        select(PlaceDesignation.id).where(
            PlaceDesignation.place_id == p.id,
            PlaceDesignation.title == title_v,
            PlaceDesignation.designated_on == designated_on,
        )
    ).first():
        raise Conflict(f"{p.name} 已于 {designated_on.isoformat()} 认定为「{title_v}」")
    row = PlaceDesignation(
        place_id=p.id, title=title_v, level=level, designated_on=designated_on, reference=ref_v, tag=tag_v
    )
    session.add(row)
    session.flush()
    audit(
        session,
        audit_key,
        scope,
        "community.place_designate",
        f"places:{p.id}",
        district=p.district,
        details={"level": level, "on": designated_on.isoformat()},
    )
    return row


def add_project(
    session: Session,
    *,
    scope: UserScope,
    audit_key: bytes,
    project_no: str,
    kind: str,
    title: str,
    district: int,
    start_on: dt.date,
    end_on: dt.date | None = None,
    place_code: str | None = None,
    operator: str | None = None,
) -> RuralProject:
    require_staff(scope, REVIEW_ROLES)
    no = (project_no or "").strip()
    if not no or len(no) > 40:
        raise ValidationFailed("项目编号：必填，不超过 40 个字符")
    if kind not in PROJECT_KINDS:
        raise ValidationFailed("项目类型：应为 信息进村入户 或 电子商务进农村")
    title_v = text(title, "项目名称", max_len=120) or ""
    check_district(district)
    require_district(scope, district)
    if end_on is not None and end_on < start_on:
        raise ValidationFailed("结束日期：不能早于开始日期")
    place_id = None
    if place_code:
        p = _place(session, place_code)
        if p.district != district:
            raise ValidationFailed(f"实施村镇：{place_code} 不在{district_label(district)}")
        place_id = p.id
    op_v = text(operator, "实施单位", max_len=120, required=False)
    if session.execute(select(RuralProject.id).where(RuralProject.project_no == no)).first():
        raise Conflict(f"项目编号 {no} 已存在")
    row = RuralProject(
        project_no=no,
        kind=kind,
        title=title_v,
        district=district,
        place_id=place_id,
        operator=op_v,
        start_on=start_on,
        end_on=end_on,
    )
    session.add(row)
    session.flush()
    audit(
        session,
        audit_key,
        scope,
        "community.project_add",
        f"rural_projects:{row.id}",
        district=district,
        details={"kind": kind},
    )
    return row


def reach(
    session: Session,
    *,
    scope: UserScope,
    audit_key: bytes,
    project_no: str,
    business_no: str,
    reached_on: dt.date,
    today: dt.date,
    service: str | None = None,
) -> ProjectReach:
    """Record that a project reached (served) a business."""
    require_staff(scope, STAFF_ROLES)
    proj = session.execute(
        select(RuralProject).where(RuralProject.project_no == project_no)
    ).scalar_one_or_none()
    if proj is None:
        raise NotFound(f"项目编号 {project_no} 不存在")
    require_district(scope, proj.district)
    b = business_by_no(session, business_no)
    if b.district != proj.district:
        raise ValidationFailed(f"主体编号：{business_no} 不在项目所在的{district_label(proj.district)}")
    not_future(reached_on, today, "服务日期")
    if reached_on < proj.start_on or (proj.end_on is not None and reached_on > proj.end_on):
        raise ValidationFailed("服务日期：须在项目实施期内")
    svc = text(service, "服务内容", max_len=200, required=False)
    if session.execute(
        select(ProjectReach.id).where(ProjectReach.project_id == proj.id, ProjectReach.business_id == b.id)
    ).first():
        raise Conflict(f"项目 {project_no} 已登记覆盖主体 {business_no}")
    row = ProjectReach(project_id=proj.id, business_id=b.id, reached_on=reached_on, service=svc)
    session.add(row)
    session.flush()
    audit(
        session,
        audit_key,
        scope,
        "community.project_reach",
        f"rural_projects:{proj.id}",
        district=proj.district,
        details={"business_no": business_no},
    )
    return row


# ---- views and the report by tag ---------------------------------------------------------------------


def places(session: Session, *, scope: UserScope) -> list[dict[str, Any]]:
    require_staff(scope)
    stmt = select(Place).order_by(Place.district, Place.kind.desc(), Place.place_code)
    district = visible_districts(scope)
    if district is not None:
        stmt = stmt.where(Place.district == district)
    rows = list(session.execute(stmt).scalars())
    ids = [p.id for p in rows] or [-1]
    tags: dict[int, list[str]] = defaultdict(list)
    for t in session.execute(select(PlaceTag).where(PlaceTag.place_id.in_(ids))).scalars():
        tags[t.place_id].append(f"{TAG_KINDS[t.tag_kind]}·{t.tag}")
    des: dict[int, list[str]] = defaultdict(list)
    for x in session.execute(
        select(PlaceDesignation)
        .where(PlaceDesignation.place_id.in_(ids))
        .order_by(PlaceDesignation.designated_on)
    ).scalars():
        des[x.place_id].append(f"{x.title}（{LEVELS[x.level]}，{x.designated_on.isoformat()}）")
    by_id = {p.id: p for p in rows}
    return [
        {
            "place_code": p.place_code,
            "name": p.name,
            "kind": p.kind,
            "kind_label": PLACE_KINDS[p.kind],
            "district_name": district_label(p.district),
            "town": by_id[p.town_id].name if p.town_id in by_id else None,
            "tags": tags[p.id],
            "designations": des[p.id],
        }
        for p in rows
    ]


def projects(session: Session, *, scope: UserScope) -> list[dict[str, Any]]:
    require_staff(scope)
    stmt = select(RuralProject).order_by(RuralProject.district, RuralProject.project_no)
    district = visible_districts(scope)
    if district is not None:
        stmt = stmt.where(RuralProject.district == district)
    out = []
    for p in session.execute(stmt).scalars():
        reached = session.execute(
            select(Business.business_no, Business.name, ProjectReach.reached_on)
            .join(ProjectReach, ProjectReach.business_id == Business.id)
            .where(ProjectReach.project_id == p.id)
            .order_by(ProjectReach.reached_on, Business.business_no)
        ).all()
        out.append(
            {
                "project_no": p.project_no,
                "kind": p.kind,
                "kind_label": PROJECT_KINDS[p.kind],
                "title": p.title,
                "district_name": district_label(p.district),
                "operator": p.operator,
                "start_on": p.start_on,
                "end_on": p.end_on,
                "businesses": [{"business_no": n, "name": nm, "reached_on": on} for n, nm, on in reached],
            }
        )
    return out


def tag_report(session: Session, *, scope: UserScope) -> list[dict[str, Any]]:
    """Per (tag kind, tag): tagged businesses (open / all), their staff, districts, tagged places,
    demonstration places, and businesses reached by 信息进村入户 / 电子商务进农村 projects."""
    require_staff(scope)
    district = visible_districts(scope)
    rows: dict[tuple[str, str], dict[str, Any]] = {}

    def slot(kind: str, tag: str) -> dict[str, Any]:
        return rows.setdefault(
            (kind, tag),
            {
                "tag_kind": kind,
                "tag_kind_label": TAG_KINDS.get(kind, kind),
                "tag": tag,
                "businesses": 0,
                "open_businesses": 0,
                "staff": 0,
                "districts": set(),
                "places": 0,
                "demonstration_places": 0,
                "reached_info": 0,
                "reached_ecommerce": 0,
            },
        )

    bstmt = select(BusinessTag.tag_kind, BusinessTag.tag, Business).join(
        Business, Business.id == BusinessTag.business_id
    )
    if district is not None:
        bstmt = bstmt.where(Business.district == district)
    tagged: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for kind, tag, b in session.execute(bstmt).all():
        r = slot(kind, tag)
        r["businesses"] += 1
        if b.deregistration_date is None:
            r["open_businesses"] += 1
            r["staff"] += b.staff_count or 0
        r["districts"].add(district_label(b.district))
        tagged[b.id].append((kind, tag))
    pstmt = select(PlaceTag.tag_kind, PlaceTag.tag, Place).join(Place, Place.id == PlaceTag.place_id)
    if district is not None:
        pstmt = pstmt.where(Place.district == district)
    demo_ids = set(session.execute(select(PlaceDesignation.place_id)).scalars())
    for kind, tag, p in session.execute(pstmt).all():
        r = slot(kind, tag)
        r["places"] += 1
        r["districts"].add(district_label(p.district))
        if p.id in demo_ids:
            r["demonstration_places"] += 1
    if tagged:
        reach_rows = session.execute(
            select(ProjectReach.business_id, RuralProject.kind)
            .join(RuralProject, RuralProject.id == ProjectReach.project_id)
            .where(ProjectReach.business_id.in_(list(tagged)))
            .distinct()
        ).all()
        for bid, pkind in reach_rows:
            for kind, tag in tagged[bid]:
                counter = "reached_info" if pkind == "info_to_village" else "reached_ecommerce"
                rows[(kind, tag)][counter] += 1
    out = []
    for key in sorted(rows, key=lambda k: (list(TAG_KINDS).index(k[0]) if k[0] in TAG_KINDS else 9, k[1])):
        r = rows[key]
        r["districts"] = "、".join(sorted(r["districts"]))
        out.append(r)
    return out


def tagged_businesses(session: Session, *, scope: UserScope) -> list[dict[str, Any]]:
    require_staff(scope)
    stmt = (
        select(BusinessTag.tag_kind, BusinessTag.tag, Business)
        .join(Business, Business.id == BusinessTag.business_id)
        .order_by(BusinessTag.tag_kind, BusinessTag.tag, Business.business_no)
    )
    district = visible_districts(scope)
    if district is not None:
        stmt = stmt.where(Business.district == district)
    return [
        {
            "tag_kind_label": TAG_KINDS.get(kind, kind),
            "tag": tag,
            "business_no": b.business_no,
            "name": b.name,
            "district_name": district_label(b.district),
            "open": b.deregistration_date is None,
            "staff_count": b.staff_count,
        }
        for kind, tag, b in session.execute(stmt).all()
    ]


REPORT_COLUMNS: Final = (
    ("tag_kind_label", "标签类型"),
    ("tag", "标签"),
    ("businesses", "标注主体数"),
    ("open_businesses", "其中存续主体"),
    ("staff", "存续主体职工人数"),
    ("places", "标注村镇数"),
    ("demonstration_places", "其中示范村镇"),
    ("reached_info", "信息进村入户覆盖主体"),
    ("reached_ecommerce", "电子商务进农村覆盖主体"),
    ("districts", "涉及区县"),
)


def tag_report_xlsx(session: Session, *, scope: UserScope, today: dt.date) -> bytes:
    """The report by tag as an Excel workbook: 按标签汇总 and 标注主体明细."""
    rows = tag_report(session, scope=scope)
    detail = tagged_businesses(session, scope=scope)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "按标签汇总"
    ws.append(
        [f"一县一品/一村一品按标签统计（{district_label(visible_districts(scope))}，{today.isoformat()}）"]
    )
    ws["A1"].font = Font(bold=True)
    ws.append([label for _, label in REPORT_COLUMNS])
    for r in rows:
        ws.append([r[k] for k, _ in REPORT_COLUMNS])
    ws2 = wb.create_sheet("标注主体明细")
    ws2.append(["标签类型", "标签", "主体编号", "主体名称", "区县", "存续", "职工人数"])
    for d in detail:
        ws2.append(
            [
                d["tag_kind_label"],
                d["tag"],
                d["business_no"],
                d["name"],
                d["district_name"],
                "是" if d["open"] else "否（已注销）",
                d["staff_count"],
            ]
        )
    for sheet in (ws, ws2):
        for col in sheet.columns:
            letter = col[0].column_letter
            sheet.column_dimensions[letter].width = 18
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
