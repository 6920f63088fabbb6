"""A page that shows a refused change again with its form answers with the refusal's kind: 403 / 404 for a
record outside the caller's scope (or missing), 422 for anything to correct (regression, issue #7: the
carriers', community and services pages answered every refusal with 422, so an attempt on another's
record looked like a form error)."""

from __future__ import annotations

from xiangchuang.errors import Conflict, Forbidden, NotFound, Refusal, ValidationFailed, page_status


def test_page_status_of_a_refusal():
    assert page_status(None) == 200
    assert page_status("") == 200
    assert page_status(Refusal(Forbidden("涪陵区的记录不在您的管辖范围内"))) == 403
    assert page_status(Refusal(NotFound("联系安排 3 不存在"))) == 404
    assert page_status(Refusal(ValidationFailed("标签类型：应为 一县一品、一村一品、一乡一业 之一"))) == 422
    assert page_status(Refusal(Conflict("认定文号 认X 已存在"))) == 422
    assert page_status("一段说明") == 422  # a plain message: a form error
    refused = Refusal(Forbidden("无权查看该载体"))
    assert refused == "无权查看该载体" and isinstance(refused, str)  # the page shows it as before
