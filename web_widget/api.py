"""The catalogue as JSON: the bundle list and each bundle's checklist."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from catalogue import browse, workdays
from catalogue.checklist import BadAnswer, UnknownBundle, checklist

bp = Blueprint("api", __name__, url_prefix="/api")


def _catalogue():
    return current_app.extensions["catalogue"].records()


def _error(status: int, message: str):
    response = jsonify(error=message)
    response.status_code = status
    return response


@bp.get("/bundles")
def bundle_list():
    """All bundles, filtered by ?family= and ?stage= when given."""
    family, stage = request.args.get("family") or None, request.args.get("stage") or None
    taxonomy = browse.taxonomy()
    if family is not None and family not in taxonomy["families"]:
        return _error(400, f"没有“{family}”这个类别，可选：{'、'.join(taxonomy['families'])}")
    stages = taxonomy["personal_stages"] + taxonomy["enterprise_stages"]
    if stage is not None and stage not in stages:
        return _error(400, f"没有“{stage}”这个阶段，可选：{'、'.join(stages)}")
    bundles = browse.bundle_list(_catalogue(), family=family, stage=stage)
    return jsonify(bundles=bundles, count=len(bundles))


@bp.get("/bundles/<slug>")
def bundle_checklist(slug: str):
    """The personalised checklist; each query parameter answers one situational question."""
    answers = {key: value for key, value in request.args.items()}
    try:
        return jsonify(checklist(_catalogue(), slug, answers, today=workdays.today()))
    except UnknownBundle:
        return _error(404, "没有找到这个“一件事”，请从列表中选择，或换个说法问一问。")
    except BadAnswer as exc:
        return _error(400, str(exc))


@bp.get("/search")
def search():
    """Bundles matching ?q=, best first."""
    text = (request.args.get("q") or "").strip()
    if not text:
        return _error(400, "请输入要查找的内容。")
    if len(text) > 200:
        return _error(400, "查找内容太长了，请精简到200字以内。")
    return jsonify(results=current_app.extensions["catalogue"].search(text))
