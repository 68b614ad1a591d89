"""The console's content section: records with their sources and check dates, marking them checked, editing
and adding records (one form per kind, web_widget/staff/record_forms.py; saved by catalogue/editing.py),
rebuilding the catalogue into a staging file, reviewing what changes for citizens, and publishing."""

from __future__ import annotations

import datetime as dt
import re
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
from catalogue import changes, content, editing, golden, publish
from catalogue.checklist import Records
from catalogue.sources import ID_FIELD, KINDS, Record, SourceError

from .. import store
from . import record_forms
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


# --- editing and adding records ----------------------------------------------------------------------

def _form(name: str) -> record_forms.Form:
    form = record_forms.FORMS.get(name)
    if form is None:
        abort(404)
    return form


def _refs(form: record_forms.Form) -> dict[str, list[tuple[str, str]]]:
    """For every kind the form's fields point at: (id, name) of its records, for the pickers."""
    cat = _browsed()[0]
    wanted = {f.ref for f in form.fields if f.ref} | {sub.ref for f in form.fields for sub in f.rows if sub.ref}
    return {kind: [(rid, r.get("name") or r.get("text") or r.get("title") or rid) for rid, r in cat[kind].items()]
            for kind in sorted(wanted)}


def _label(kind: str, record_id: str, file: str) -> str:
    return Record(kind, {ID_FIELD[kind]: record_id}, file, None).label


def _errors(form: record_forms.Form, errors: list[SourceError], label: str, file: str,
            problems: dict[str, str]) -> list[dict]:
    """check()'s errors for the page (field names in Chinese); this record's also beside their inputs."""
    names = record_forms.labels(form)
    rows = []
    for error in errors:
        top = re.split(r"[\[.]", error.field or "")[0]
        explained = record_forms.explain(error.message)
        if error.record == label and error.file == file and top in names:
            problems.setdefault(top, explained)
        where = names.get(top, top) + (error.field[len(top):] if error.field else "")
        rows.append({"file": error.file, "line": error.line, "record": error.record, "message": error.message,
                     "field_label": where, "explained": explained})
    return rows


def _edit_page(form: record_forms.Form, status: int = 200, **context):
    context.setdefault("values", {})
    context.setdefault("problems", {})
    for key in ("record_id", "file", "line", "version", "file_hash", "message", "conflict", "errors", "existing",
                "saved", "files"):
        context.setdefault(key, None)
    new = context["record_id"] is None
    action = url_for(".new", form_name=form.name) if new else \
        url_for(".edit", form_name=form.name, record_id=context["record_id"])
    return render_template("staff/content_edit.html", form=form, new=new, action=action, refs=_refs(form),
                           blank_rows=record_forms.ROWS_SHOWN_EMPTY, **context), status


@bp.get("/edit/<form_name>/<record_id>")
def edit(form_name: str, record_id: str):
    """A record's form, filled from its YAML source, carrying the version it was opened at."""
    form = _form(form_name)
    try:
        opened = editing.open_record(_path("CATALOGUE_SOURCES"), form.kind, record_id)
    except editing.NotFound:
        abort(404)
    except editing.Unkeepable as exc:
        return _edit_page(form, 409, record_id=record_id, message=_unkeepable(exc))
    return _edit_page(form, record_id=record_id, file=opened.file, line=opened.line, version=opened.version,
                      file_hash=opened.file_hash, values=record_forms.shown(form, opened.values),
                      saved=request.args.get("saved") == "1")


def _unkeepable(exc: Exception) -> str:
    return f"这个文件没法在工作台里修改而不打乱它的排版（{exc}）。为了不改乱文件，这次没有保存；请开发人员直接编辑源文件。"


def _busy() -> str:
    return "别人正在保存源文件，等了 30 秒还没有结束。你的填写还在表单里，请稍后再点保存。"


def _changed_labels(form: record_forms.Form, changes: dict) -> str:
    names = record_forms.labels(form)
    return "、".join(names.get(name, name) for name in changes)


@bp.post("/edit/<form_name>/<record_id>")
def save(form_name: str, record_id: str):
    """Write the changed fields into the record's YAML source, if the record is still as it was opened and the
    sources still pass check(); then lead to 重新生成 (nothing is published here)."""
    form = _form(form_name)
    root = _path("CATALOGUE_SOURCES")
    file, version = request.form.get("_file", ""), request.form.get("_version", "")
    file_hash = request.form.get("_file_hash") or None
    values, problems = record_forms.read(form, request.form, new=False)
    page = {"record_id": record_id, "file": file, "version": version, "file_hash": file_hash,
            "values": record_forms.submitted(form, request.form), "problems": problems}
    if problems:
        return _edit_page(form, 400, message="有几处填写看不懂，没有保存，请按提示改正。", **page)
    try:
        saved = editing.save(root, form.kind, record_id, file, version, values, file_hash)
    except editing.Conflict as exc:
        if exc.opened is None:
            return _edit_page(form, 409, **page, message=f"这条记录已经不在 {file} 里了（可能被删除、改了编号或移到别的文件），"
                                                        "这次没有保存。请回到列表重新打开。")
        page |= {"version": exc.opened.version, "file_hash": exc.opened.file_hash}
        return _edit_page(form, 409, **page, conflict=record_forms.differences(form, exc.current, request.form))
    except editing.Invalid as exc:
        errors = _errors(form, exc.errors, _label(form.kind, record_id, file), file, problems)
        return _edit_page(form, 422, **page, errors=errors, existing=len(exc.existing))
    except editing.Busy:
        return _edit_page(form, 503, **page, message=_busy())
    except editing.Unkeepable as exc:
        return _edit_page(form, 409, **page, message=_unkeepable(exc))
    except editing.NotFound:
        abort(404)
    if not saved.changes:
        flash("没有改动，源文件没有变。", "ok")
        return redirect(url_for(".edit", form_name=form.name, record_id=record_id))
    _record_change(form, saved)
    merged = "你打开之后同一文件里别的记录也有人改过，他们的修改都保留了。" if saved.merged else ""
    flash(f"已保存到 {saved.file} 第 {saved.line} 行，改了：{_changed_labels(form, saved.changes)}。{merged}"
          "群众看到的清单还没有变：请点“重新生成并查看变化”，确认后发布。", "ok")
    return redirect(url_for(".edit", form_name=form.name, record_id=record_id, saved=1))


def _record_change(form: record_forms.Form, saved: editing.Saved) -> None:
    """The audit trail (the changed fields before and after) and the content section's history."""
    username = current_staff()["username"]
    what = "新增" if saved.created else "修改"
    detail = f"{saved.file}:{saved.line} {what}{form.title}：{_changed_labels(form, saved.changes)}"
    before = None if saved.created else {name: change[0] for name, change in saved.changes.items()}
    after = {name: change[1] for name, change in saved.changes.items()}
    store.audit(username, "edit", f"{saved.kind}:{saved.record_id}", detail, before, after)
    store.log_content(username, "created" if saved.created else "edited", saved.kind, saved.record_id, detail)


@bp.get("/new/<form_name>")
def new(form_name: str):
    """An empty form for a new record of one kind, and the file it will be added to."""
    form = _form(form_name)
    if not form.creates:
        abort(404)
    files = editing.files_with(_path("CATALOGUE_SOURCES"), form.kind)
    chosen = request.args.get("file") if request.args.get("file") in files else (files[0] if files else None)
    return _edit_page(form, files=files, file=chosen, values=record_forms.defaults(form))


@bp.post("/new/<form_name>")
def create(form_name: str):
    """Add the new record at the end of its kind's list in the chosen file, if the sources still pass check()."""
    form = _form(form_name)
    if not form.creates:
        abort(404)
    root = _path("CATALOGUE_SOURCES")
    files = editing.files_with(root, form.kind)
    file = request.form.get("_file", "")
    values, problems = record_forms.read(form, request.form, new=True)
    page = {"files": files, "file": file, "values": record_forms.submitted(form, request.form), "problems": problems}
    if file not in files:
        problems["_file"] = "请选择一个源文件。"
    if problems:
        return _edit_page(form, 400, message="有几处填写看不懂，没有保存，请按提示改正。", **page)
    try:
        saved = editing.create(root, form.kind, file, values)
    except editing.Invalid as exc:
        label = _label(form.kind, values.get(form.id_field) or "", file)
        return _edit_page(form, 422, **page, errors=_errors(form, exc.errors, label, file, problems),
                          existing=len(exc.existing))
    except editing.Busy:
        return _edit_page(form, 503, **page, message=_busy())
    except editing.Unkeepable as exc:
        return _edit_page(form, 409, **page, message=_unkeepable(exc))
    _record_change(form, saved)
    flash(f"已新增{form.title}“{saved.record_id}”，写在 {saved.file} 第 {saved.line} 行。群众看到的清单还没有变："
          "请点“重新生成并查看变化”，确认后发布。", "ok")
    return redirect(url_for(".edit", form_name=form.name, record_id=saved.record_id, saved=1))
