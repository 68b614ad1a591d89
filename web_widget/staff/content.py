"""The console's content section: records with their sources and check dates, marking them checked,
rebuilding the catalogue into a staging file, reviewing what changes for citizens, and publishing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from assistant import training
from catalogue import changes, content, golden, publish
from catalogue.checklist import Records
from catalogue.sources import KINDS

from .. import store
from .auth import current_staff

bp = Blueprint("content", __name__, url_prefix="/content")


def _path(key: str) -> Path:
    return Path(current_app.config[key])


def _sources() -> content.SourceView:
    """The sources as they are now, read again only when a file's bytes changed."""
    root = _path("CATALOGUE_SOURCES")
    cached = current_app.extensions.get("content_sources")
    if cached is None or cached[0] != root or cached[1].digest != publish.sources_hash(root):
        cached = (root, content.read(root))
        current_app.extensions["content_sources"] = cached
    return cached[1]


def _live() -> Records | None:
    try:
        return current_app.extensions["catalogue"].records()
    except FileNotFoundError:
        return None


def _browsed() -> tuple[Records, content.Lines, bool]:
    """The records to browse: the sources when they are valid (a mark shows at once), else the live catalogue."""
    view = _sources()
    if not view.errors:
        return view.records, view.lines, True
    return _live() or {kind: {} for kind in KINDS}, view.lines, False


def _status(view: content.SourceView, live: Records | None) -> dict:
    staged = publish.staged_hash(_path("CATALOGUE_STAGING_DB"))
    pending = changes.record_changes(live, view.records) if live is not None and not view.errors else None
    return {
        "errors": len(view.errors),
        "live": None if live is None else {"bundles": len(live["bundles"]),
                                           "built_at": current_app.extensions["catalogue"].meta().get("built_at")},
        "pending": None if pending is None else sum(len(c) for c in pending.values()),
        "pending_provenance": None if pending is None else sum(len(c.provenance_only) for c in pending.values()),
        "staged": None if staged is None else ("fresh" if staged == view.digest else "stale"),
    }


def _filters() -> tuple[str, str, str, str | None]:
    """The text, check-state and date filters of a listing, and a message when the date is not a date."""
    q, checked, before = (request.args.get(k, "").strip() for k in ("q", "checked", "before"))
    if before:
        try:
            before = dt.date.fromisoformat(before).isoformat()
        except ValueError:
            return q, checked, "", f"“{before}”不是日期（年-月-日），已忽略。"
    return q, checked, before, None


def _history() -> list[dict]:
    rows = store.content_log()
    for row in rows:
        row["at"] = dt.datetime.fromtimestamp(row["at"]).strftime("%Y-%m-%d %H:%M")
    return rows


@bp.get("")
def overview():
    """The bundles with their check dates, the catalogue's state and the latest content changes."""
    records, lines, from_sources = _browsed()
    q, checked, before, bad_date = _filters()
    every = content.bundle_rows(records, lines)
    rows = content.filter_rows(every, q, checked, before)
    elsewhere = sorted((r for r in every if r["elsewhere"] > 0.5), key=lambda r: (-r["elsewhere"], r["id"]))
    return render_template("staff/content.html", rows=rows, q=q, checked=checked, elsewhere=elsewhere,
                           before=before, bad_date=bad_date, from_sources=from_sources,
                           status=_status(_sources(), _live()), counts=content.unchecked_counts(records),
                           history=_history(), sources_dir=current_app.config["CATALOGUE_SOURCES"])


@bp.get("/records")
def records():
    """The records of one kind (materials by default), filtered like the bundles."""
    kind = request.args.get("kind", "materials")
    if kind not in KINDS:
        abort(404)
    cat, lines, from_sources = _browsed()
    q, checked, before, bad_date = _filters()
    used = content.usage(cat)
    rows = [content.record_row(cat, kind, record_id, lines) | {"used_by": used.get((kind, record_id), [])}
            for record_id in cat[kind]]
    return render_template("staff/content_records.html", kind=kind, kinds=KINDS,
                           rows=content.filter_rows(rows, q, checked, before), q=q, checked=checked, before=before,
                           bad_date=bad_date, from_sources=from_sources, bundles=cat["bundles"])


@bp.get("/bundle/<slug>")
def bundle(slug: str):
    """One bundle with its items, materials and questions, each with its source and check date."""
    cat, lines, from_sources = _browsed()
    if slug not in cat["bundles"]:
        abort(404)
    return render_template("staff/content_bundle.html", d=content.bundle_detail(cat, slug, lines),
                           slug=slug, from_sources=from_sources)


def _back() -> str:
    target = request.form.get("next", "")
    return target if target.startswith("/staff/content") and "//" not in target else url_for(".overview")


@bp.post("/check")
def check():
    """Write today's date as `checked` of one record into its YAML source."""
    kind, record_id, today = request.form.get("kind", ""), request.form.get("id", ""), dt.date.today()
    try:
        marked = publish.mark_checked(_path("CATALOGUE_SOURCES"), kind, record_id, today)
    except publish.MarkError as exc:
        flash(f"没能标记已核对：{exc}", "bad")
        return redirect(_back())
    if marked.changed:
        with store.writing("yishi-content-log"):
            store.log_content(current_staff()["username"], "checked", kind, record_id,
                              f"{marked.file}:{marked.line} {marked.previous or 'null'} → {today.isoformat()}")
            store.audit(current_staff()["username"], "mark", f"{kind}:{record_id}", f"{marked.file}:{marked.line}",
                        before={"checked": None if marked.previous in (None, "null") else marked.previous},
                        after={"checked": today.isoformat()})
        flash(f"已在 {marked.file} 第 {marked.line} 行把“{record_id}”记为今天（{today.isoformat()}）核对。"
              "核对日期不改变群众看到的清单，下次重新生成并发布时一并进入正在服务的目录。", "ok")
    else:
        flash(f"“{record_id}”今天已经标记过核对，没有改动。", "ok")
    return redirect(_back())


@bp.post("/rebuild")
def rebuild():
    """Build the sources into the staging file; show the errors, or what changes for citizens."""
    staged = publish.stage(_path("CATALOGUE_SOURCES"), _path("CATALOGUE_STAGING_DB"))
    if not staged.ok:
        return render_template("staff/content_rebuild.html", errors=staged.errors, diff=None)
    live = _live()
    diff = changes.diff(live, staged.records)
    retrain = any(b.status != "changed" or b.old_name for b in diff.bundles) or bool(diff.records["bundles"].changed)
    return render_template("staff/content_rebuild.html", errors=[], diff=diff, digest=staged.sources_hash,
                           retrain=retrain, golden_paths=golden.changed_paths(live, staged.records))


@bp.post("/publish")
def publish_staged():
    """Replace the live catalogue with the staged build that was reviewed (and regenerate the training data)."""
    before = _live()
    try:
        result = publish.publish(_path("CATALOGUE_STAGING_DB"), _path("CATALOGUE_DB"), _path("CATALOGUE_SOURCES"),
                                 _path("JIEBA_DICT_DIR"), training.writer(_path("RASA_DATA_DIR"), _path("RASA_DOMAIN")),
                                 expected_hash=request.form.get("digest", ""))
    except publish.NothingStaged:
        message = "没有待发布的新目录：请先点“重新生成”，查看变化后再发布。"
    except publish.StaleStaging:
        message = ("生成预览之后，源文件又改过了（或别人重新生成了预览）。为了不发布没看过的内容，这次没有发布；"
                   "请重新生成，查看变化后再发布。")
    else:
        changed = [b.name for b in changes.diff(before, result.records).bundles]
        detail = f"{result.bundles} 件事；清单有变化：{'、'.join(changed) or '无'}"
        with store.writing("yishi-content-log"):
            store.log_content(current_staff()["username"], "published", None, None, detail)
            store.audit(current_staff()["username"], "publish", "catalogue", detail,
                        before={"bundles": None if before is None else len(before["bundles"])},
                        after={"bundles": result.bundles, "changed": changed})
        flash(f"已发布：共 {result.bundles} 件事，{len(changed)} 件的清单有变化，群众看到的清单已经更新。"
              "新增或改名的“一件事”和新别名，要重新训练（make model）后助手才能听懂。", "ok")
        return redirect(url_for(".overview"))
    return render_template("staff/content_rebuild.html", errors=[], diff=None,
                           message=message), 409
