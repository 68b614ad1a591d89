"""The staff console under /staff: one parent blueprint that does login, CSRF and the template context
once for every page and API of the console; each section is a child blueprint.

Sections: 测试台 (bench), 质量 (quality, with its background runs in jobs), 对话回看 (review, over
the tracker store read by tracker), 需求 (demand, figures from demand_stats), 内容 (content), 好差评 (ratings: the
follow-up of every 差评) and 模型 (models: retraining in the background by retrain, 上线 and 回滚).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, redirect, request, url_for

from ..marks import is_json_api
from . import auth

bp = Blueprint("staff", __name__, url_prefix="/staff", template_folder="templates", static_folder="static")
PUBLIC = {"staff.auth.login", "staff.static"}  # reachable without a staff session


@bp.before_request
def guard():
    """Every console route but the login needs a live session; every state change its CSRF token."""
    if request.endpoint in PUBLIC:
        return None
    if auth.current_staff() is None:
        if is_json_api(current_app.view_functions.get(request.endpoint)):
            return jsonify(error="请先登录。"), 401
        return redirect(url_for("staff.auth.login", next=request.path))
    if request.method not in ("GET", "HEAD", "OPTIONS") and not auth.csrf_ok():
        return ("请求已过期，请刷新页面后重试。", 400)
    return None


@bp.context_processor
def staff_context() -> dict[str, Any]:
    return {"staff": auth.current_staff()}


def _register() -> None:
    from . import bench, content, demand, models, quality, ratings, review

    for child in (auth.bp, bench.bp, quality.bp, review.bp, demand.bp, content.bp, ratings.bp, models.bp):
        bp.register_blueprint(child)


_register()
