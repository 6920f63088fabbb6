"""The monitoring rules of clause 3.10: low work-injury insurance participation of a district's small
employers, and referrals whose follow-up is overdue. Registered with :mod:`xiangchuang.stats.alerts` (listed in its ``RULE_PROVIDERS``), so the alert
opens, refreshes and resolves, notifies the district through the outbox and is audited like every rule."""

from __future__ import annotations

from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from xiangchuang.community.service import KIND_LABELS, injury_participation, previous_month
from xiangchuang.models import ClosureCase, ClosureReferral
from xiangchuang.stats.alerts import Context, Finding, rule
from xiangchuang.stats.service import district_name


@rule("injury_participation_low", "小微经营主体工伤保险参保率偏低")
def _injury_participation_low(session: Session, ctx: Context) -> list[Finding]:
    """The last complete month: districts whose ratio of small employers paying the employer's part of
    work-injury insurance is below ``community.injury_participation_min_ratio``."""
    month = previous_month(ctx.today)
    out = []
    for row in injury_participation(session, month=month):
        d = row["district"]
        if row["employers"] < int(ctx.value("community.injury_min_employers", d)):
            continue
        threshold: Fraction = ctx.value("community.injury_participation_min_ratio", d)
        if row["insured"] * threshold.denominator >= threshold.numerator * row["employers"]:
            continue
        pct = row["insured"] * 100 / row["employers"]
        out.append(
            Finding(
                key=f"{d}:{month}",
                district=d,
                role="district_reviewer",
                subject=f"businesses:injury-{d}-{month}",
                message=(
                    f"{district_name(d)} {month // 100}年{month % 100}月有雇工的小微经营主体 {row['employers']} 户，"
                    f"缴纳工伤保险 {row['insured']} 户，参保率 {pct:.1f}%，低于预警线 {float(threshold) * 100:.0f}%"
                ),
                details={
                    "month": month,
                    "employers": row["employers"],
                    "insured": row["insured"],
                    "threshold": str(threshold),
                },
            )
        )
    return out


@rule("referral_followup_overdue", "创业失败帮扶转介回访逾期")
def _referral_followup_overdue(session: Session, ctx: Context) -> list[Finding]:
    """An open referral (referred / in progress) whose next follow-up date has passed: the district's
    reviewers are told; recording the follow-up (a new date) or the outcome resolves it by itself."""
    rows = session.execute(
        select(ClosureReferral, ClosureCase.district)
        .join(ClosureCase, ClosureCase.id == ClosureReferral.case_id)
        .where(
            ClosureReferral.state.in_(("referred", "in_progress")),
            ClosureReferral.next_followup_on < ctx.today,
        )
        .order_by(ClosureReferral.id)
    ).all()
    out = []
    for r, district in rows:
        assert r.next_followup_on is not None
        late = (ctx.today - r.next_followup_on).days
        out.append(
            Finding(
                key=f"{r.referral_no}:{r.next_followup_on.isoformat()}",
                district=district,
                role="district_reviewer",
                subject=f"closure_referrals:{r.id}",
                message=(
                    f"转介 {r.referral_no}（{KIND_LABELS[r.kind]}，责任人 {r.owner}）应于 "
                    f"{r.next_followup_on.isoformat()} 回访，已逾期 {late} 天"
                ),
                details={"referral_no": r.referral_no, "late_days": late},
            )
        )
    return out
