"""The console's record forms, described once per kind: which fields, their Chinese labels and widgets.

One template (staff/content_edit.html) renders every form from these descriptions. Which fields are required,
their defaults and allowed values stay in catalogue/schema.py: a form only says how a field is shown and read,
and saving runs the catalogue's own check.

Widgets: text, multiline, int, bool, date, choice (one of `choices`), ref (the id of a record of kind `ref`),
refs (ids, one a line), strs (texts, one a line), cond (a condition: `question=answer|answer; …`) and rows (a
table of sub-records, each with the fields in `rows`; a row left empty is dropped).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from catalogue import schema
from catalogue.sources import ID_FIELD


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    widget: str = "text"
    help: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    ref: str = ""
    rows: tuple[Field, ...] = ()


@dataclass(frozen=True)
class Form:
    name: str  # in the address: /staff/content/edit/<name>/<id>
    kind: str  # the catalogue kind it edits
    title: str
    fields: tuple[Field, ...]
    creates: bool = True  # whether 新增 offers it

    @property
    def id_field(self) -> str:
        return ID_FIELD[self.kind]


def _choices(values: tuple[str, ...], labels: dict[str, str] | None = None) -> tuple[tuple[str, str], ...]:
    return tuple((v, f"{labels[v]}（{v}）" if labels else v) for v in values)


CONDITION_HELP = "写成 问题编号=选项值；几个选项用 | 隔开，几个问题用 ; 隔开，例如 size=large|medium; agent=yes。留空表示总是需要。"
ID_HELP = "小写英文字母、数字和下划线，保存后不能在这里改。"

PROVENANCE = (
    Field("source", "来源说明", "multiline", "用几句话写明依据：哪份文件、哪一条，或为什么是推断。"),
    Field("region", "依据地区", "choice", "所引依据文件中最好的那份的地区；没有公开依据时选“推断”。",
          choices=_choices(schema.REGIONS)),
    Field("cites", "依据文件", "refs", "每行一个依据文件编号；地区不是“推断”时必须至少写一份。", ref="citations"),
    Field("checked", "核对日期", "date", "最后一次对照现行办事指南核对的日期；没核对过就留空。"),
)

CHANNEL_KINDS = {"offline": "线下窗口", "online": "网上办", "mail": "邮寄", "door_to_door": "上门服务", "hotline": "热线"}
MATERIAL_KINDS = {"certificate": "证照", "form": "申请表格", "proof": "证明", "contract": "合同", "drawing": "图纸",
                  "rules": "制度", "photo": "照片", "report": "报告", "commitment": "承诺书", "other": "其他"}
ISSUERS = {"applicant": "申请人自备", "department": "部门核发", "system": "系统生成"}
READ_VIA = {"official": "发文机关网站原文", "repost": "转载", "code": "公开代码库", "project": "项目内副本"}

FORMS: dict[str, Form] = {form.name: form for form in (
    Form("bundles", "bundles", "一件事", (
        Field("slug", "编号", help=ID_HELP),
        Field("name", "名称", help="群众看到的名称，例如“我要开健身房”。"),
        Field("family", "类别", "choice", choices=_choices(schema.FAMILIES)),
        Field("stage", "阶段", "choice", "人生服务选人生阶段，企业开办和工程建设项目选经营阶段。", choices=_choices(schema.STAGES)),
        Field("summary", "简介", "multiline", "一两句群众看得懂的话。"),
        Field("lead_department", "牵头部门", "ref", ref="departments"),
        Field("steps", "办理环节数", "int"),
        Field("step_names", "环节名称", "strs", "每行一个，例如 一表申请。"),
        Field("online_full", "全程网办（不用跑腿）", "bool"),
        Field("merged_form", "合并后的申请表", "ref", "材料编号，类型必须是申请表格；留空表示不合并。", ref="materials"),
        Field("items", "事项", "rows", rows=(
            Field("item", "事项", "ref", ref="items"),
            Field("when", "什么情形下要办", "cond", CONDITION_HELP))),
        Field("questions", "情形问题（按提问顺序）", "refs", ref="questions"),
        Field("channels", "办理渠道", "refs", "至少一个。", ref="channels"),
        Field("mechanisms", "改革机制", "refs", ref="mechanisms"),
        Field("fee", "收费"),
        Field("agent", "代办说明", "multiline"),
        Field("conditions", "办理条件", "multiline"),
        Field("aliases", "别名", "strs", "群众可能的说法，每行一个；一个说法只能指向一件事。"),
        Field("name_en", "英文名称"),
        Field("summary_en", "英文简介", "multiline"),
        Field("promise_days", "公布的承诺时限（工作日）", "int", "留空表示没有公布，按事项推算。"),
        Field("promise_note", "承诺时限不含什么", help="例如 不含制证和邮寄时间。"),
        Field("promise_cites", "公布承诺时限的文件", "refs", "写了承诺时限就必须写。", ref="citations"),
        *PROVENANCE)),
    Form("aliases", "bundles", "别名", (
        Field("aliases", "别名", "strs", "群众可能的说法，每行一个；一个说法只能指向一件事。改完要重新训练助手才能听懂。"),
    ), creates=False),
    Form("items", "items", "事项", (
        Field("id", "编号", help=ID_HELP),
        Field("name", "名称"),
        Field("department", "办理部门", "ref", ref="departments"),
        Field("working_days", "承诺时限（工作日）", "int", "单独办理时的承诺时限。"),
        Field("legal_days", "法定时限（工作日）", "int"),
        Field("steps", "办理环节数", "int"),
        Field("visits", "跑动次数", "int", "单独办理时要跑几次；0 表示全程网办，留空按 1 次。"),
        Field("requires", "前置事项", "refs", "必须先办完的事项编号，每行一个。", ref="items"),
        Field("result", "办理结果", help="例如 营业执照。"),
        Field("result_material", "结果对应的材料", "ref", ref="materials"),
        Field("fee", "收费"),
        Field("materials", "材料", "rows", rows=(
            Field("material", "材料", "ref", ref="materials"),
            Field("originals", "原件份数", "int", "留空为 1"),
            Field("copies", "复印件份数", "int", "留空为 0"),
            Field("when", "什么情形下要交", "cond", CONDITION_HELP),
            Field("note", "说明"),
            Field("hand_in", "即使可数据共享也要交原件", "bool"))),
        *PROVENANCE)),
    Form("materials", "materials", "材料", (
        Field("id", "编号", help=ID_HELP),
        Field("name", "名称"),
        Field("kind", "材料类型", "choice", "申请表格会被一件事的合并申请表代替。",
              choices=_choices(schema.MATERIAL_KINDS, MATERIAL_KINDS)),
        Field("issuer", "由谁提供", "choice", choices=_choices(schema.ISSUERS, ISSUERS)),
        Field("issued_by", "核发部门", "ref", "由部门核发时必须写。", ref="departments"),
        Field("shared", "可通过数据共享免交（电子证照）", "bool", "只有部门核发的材料可以。"),
        Field("note", "说明", "multiline", "群众会看到。"),
        *PROVENANCE)),
    Form("questions", "questions", "情形问题", (
        Field("key", "编号", help=ID_HELP),
        Field("text", "问题", help="例如 是否委托他人代为办理？"),
        Field("options", "选项", "rows", "至少两个；选项值用小写英文，同一问题里不能重复。", rows=(
            Field("value", "选项值"),
            Field("label", "选项文字"))),
        Field("ask_when", "只在这些回答下才问", "cond", CONDITION_HELP),
        *PROVENANCE)),
    Form("departments", "departments", "部门", (
        Field("id", "编号", help=ID_HELP),
        Field("name", "名称"),
        Field("short", "简称"),
        *PROVENANCE)),
    Form("channels", "channels", "办理渠道", (
        Field("id", "编号", help=ID_HELP),
        Field("name", "名称"),
        Field("kind", "渠道类型", "choice", choices=_choices(schema.CHANNEL_KINDS, CHANNEL_KINDS)),
        Field("address", "地址", help="线下窗口才写。"),
        Field("hours", "办公时间"),
        Field("url", "网址", help="网上办才写；写了网址就要写依据文件。"),
        Field("note", "说明", "multiline"),
        *PROVENANCE)),
    Form("mechanisms", "mechanisms", "改革机制", (
        Field("id", "编号", help=ID_HELP),
        Field("name", "名称"),
        Field("description", "说明", "multiline"),
        *PROVENANCE)),
    Form("citations", "citations", "依据文件", (
        Field("id", "编号", help="按地区加前缀：cd_ 成都，sc_ 四川，cn_ 国家，hn_/gd_/… 外省。" + ID_HELP),
        Field("title", "标题", help="照原文写，不要编。"),
        Field("issuer", "发文机关"),
        Field("number", "文号", help="没有就留空。"),
        Field("date", "日期", help="年-月-日或年份；不知道就留空。"),
        Field("region", "地区", "choice", choices=_choices(schema.CITED_REGIONS)),
        Field("province", "省份", help="外省文件必须写（原文没写就填 未注明）。"),
        Field("url", "网址", help="实际读到原文的地址（转载也可以）。"),
        Field("repo_path", "代码库", help="收录原文的公开代码库 owner/name。"),
        Field("read_via", "从哪里读到", "choice", choices=_choices(schema.READ_VIA, READ_VIA)),
        Field("checked", "核对日期", "date"))),
    Form("next_steps", "next_steps", "接着办", (
        Field("id", "编号", help=ID_HELP),
        Field("from", "办完这件事后", "ref", ref="bundles"),
        Field("to", "推荐接着办", "ref", ref="bundles"),
        Field("why", "理由", help="群众看到的一句话。"),
        *PROVENANCE)),
    Form("topics", "topics", "话题", (
        Field("id", "编号", help=ID_HELP),
        Field("words", "话题词", "strs", "每行一个，例如 户口。"),
        Field("bundles", "反问时列出的一件事", "refs", "至少两个。", ref="bundles"),
        *PROVENANCE)),
    Form("exclusions", "exclusions", "范围之外", (
        Field("id", "编号", help=ID_HELP),
        Field("bundle", "一件事", "ref", ref="bundles"),
        Field("words", "范围之外的词", "strs", "每行一个，例如 二手车：问到它就不是这件事。"),
        Field("unless", "除非同时说到", "strs", "每行一个，例如 房：说到它仍可能是这件事。"),
        *PROVENANCE)),
)}

ROWS_SHOWN_EMPTY = 3  # blank rows under a table of sub-records, for adding


# --- showing values in a form ----------------------------------------------------------------------

def _shown(field: Field, value: Any) -> Any:
    if field.widget == "bool":
        return bool(value)
    if value is None:
        return "" if field.widget != "rows" else []
    if field.widget in ("strs", "refs"):
        return "\n".join(str(v) for v in value) if isinstance(value, list) else str(value)
    if field.widget == "cond":
        if not isinstance(value, dict):
            return str(value)
        return "; ".join(f"{k}={'|'.join(map(str, v)) if isinstance(v, list) else v}" for k, v in value.items())
    if field.widget == "rows":
        rows = value if isinstance(value, list) else []
        return [{sub.name: _shown(sub, row.get(sub.name)) for sub in field.rows} for row in rows if isinstance(row, dict)]
    return str(value)


def shown(form: Form, values: dict[str, Any]) -> dict[str, Any]:
    """A record's values as the form's inputs show them; a field the record leaves out shows empty."""
    result = {form.id_field: str(values.get(form.id_field, ""))}
    for field in form.fields:
        result[field.name] = _shown(field, values.get(field.name))
    return result


def defaults(form: Form) -> dict[str, Any]:
    """What a new record's form shows: the schema's defaults."""
    fields = schema.fields_of(form.kind)
    return shown(form, {name: fields[name][2] for name in (f.name for f in form.fields) if name in fields})


# --- reading a submitted form ------------------------------------------------------------------------

def _read(field: Field, raw: str, checked: bool) -> Any:
    """One input's value; ValueError with a message in Chinese when it cannot be read."""
    text = raw.replace("\r\n", "\n").strip()
    if field.widget == "bool":
        return checked
    if field.widget in ("strs", "refs"):
        return [line.strip() for line in text.split("\n") if line.strip()]
    if field.widget == "cond":
        return read_condition(text)
    if not text:
        return None
    if field.widget == "int":
        if not re.fullmatch(r"\d+", text):
            raise ValueError("要填不小于 0 的整数")
        return int(text)
    if field.widget == "date":
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValueError("日期要写成 年-月-日，例如 2026-03-01") from None
    return text


def read_condition(text: str) -> dict[str, Any]:
    """`size=large|medium; agent=yes` → {"size": ["large", "medium"], "agent": "yes"}."""
    condition: dict[str, Any] = {}
    for part in re.split(r"[;；\n]", text):
        if not part.strip():
            continue
        key, sep, answers = part.replace("＝", "=").partition("=")
        values = [a.strip() for a in re.split(r"[|｜]", answers) if a.strip()]
        if not sep or not key.strip() or not values:
            raise ValueError(f"“{part.strip()}”看不懂：条件写成 问题编号=选项值，例如 agent=yes")
        condition[key.strip()] = values[0] if len(values) == 1 else values
    return condition


def read(form: Form, data: Any, new: bool) -> tuple[dict[str, Any], dict[str, str]]:
    """The submitted values of a form (data: request.form) and the inputs that could not be read {field: 问题}."""
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    if new:
        values[form.id_field] = data.get(form.id_field, "").strip() or None
    for field in form.fields:
        if field.name == form.id_field:
            continue
        if field.widget == "rows":
            rows, problem = _read_rows(field, data)
            values[field.name] = rows
            if problem:
                problems[field.name] = problem
            continue
        try:
            values[field.name] = _read(field, data.get(field.name, ""), field.name in data)
        except ValueError as exc:
            problems[field.name] = str(exc)
    return values, problems


def row_count(field: Field, data: Any) -> int:
    try:
        return max(0, min(int(data.get(f"{field.name}-rows", "0")), 500))
    except ValueError:
        return 0


def _read_rows(field: Field, data: Any) -> tuple[list[dict[str, Any]], str | None]:
    rows, problems = [], []
    key = field.rows[0]
    for i in range(row_count(field, data)):
        names = {sub.name: f"{field.name}-{i}-{sub.name}" for sub in field.rows}
        raw = {sub.name: data.get(names[sub.name], "") for sub in field.rows}
        if not any(raw[sub.name].strip() for sub in field.rows if sub.widget != "bool") \
                and not any(names[sub.name] in data for sub in field.rows if sub.widget == "bool"):
            continue  # an empty row: dropped
        if not raw[key.name].strip():
            problems.append(f"第 {i + 1} 行：请填写{key.label}，或把这一行清空")
            continue
        row = {}
        for sub in field.rows:
            try:
                row[sub.name] = _read(sub, raw[sub.name], names[sub.name] in data)
            except ValueError as exc:
                problems.append(f"第 {i + 1} 行{sub.label}：{exc}")
        rows.append(row)
    return rows, "；".join(problems) or None


def labels(form: Form) -> dict[str, str]:
    """Field name → label, also for the fields of sub-records (`items.when` style names stay as the catalogue's)."""
    found = {form.id_field: "编号"}
    for field in form.fields:
        found[field.name] = field.label
    return found


def submitted(form: Form, data: Any) -> dict[str, Any]:
    """What was typed into a form, to show it again when saving is refused (nothing typed is lost)."""
    result = {form.id_field: data.get(form.id_field, "")}
    for field in form.fields:
        if field.widget == "bool":
            result[field.name] = field.name in data
        elif field.widget == "rows":
            rows = []
            for i in range(row_count(field, data)):
                row = {sub.name: (f"{field.name}-{i}-{sub.name}" in data) if sub.widget == "bool"
                       else data.get(f"{field.name}-{i}-{sub.name}", "") for sub in field.rows}
                if any(v for v in row.values()):
                    rows.append(row)
            result[field.name] = rows
        elif field.name != form.id_field:
            result[field.name] = data.get(field.name, "")
    return result


def _as_text(field: Field, value: Any) -> str:
    if field.widget == "bool":
        return "是" if value else "否"
    if field.widget == "rows":
        return "；".join("，".join(f"{sub.label} {_as_text(sub, row.get(sub.name))}" for sub in field.rows
                                 if row.get(sub.name) not in ("", None, False)) for row in value)
    return " ".join(str(value).replace("\r\n", "\n").split())


def differences(form: Form, current: dict[str, Any], data: Any) -> list[dict[str, str]]:
    """The fields where the record as it is now differs from what was typed: {label, current, yours}."""
    now, typed = shown(form, current), submitted(form, data)
    rows = []
    for field in form.fields:
        if field.name == form.id_field:
            continue
        theirs, yours = _as_text(field, now[field.name]), _as_text(field, typed[field.name])
        if theirs != yours:
            rows.append({"label": field.label, "current": theirs or "（空）", "yours": yours or "（空）"})
    return rows


# check()'s messages (catalogue/validate.py) in Chinese, the common ones; others are shown as they are
KIND_WORDS = {"department": "部门", "material": "材料", "item": "事项", "question": "情形问题", "channel": "办理渠道",
              "mechanism": "改革机制", "citation": "依据文件", "bundle": "一件事"}
_EXPLAINED = (
    (r"is required when issuer is department", lambda m: "由部门核发的材料必须写核发部门"),
    (r"is required.*", lambda m: "必须填写"),
    (r"must be non-empty text", lambda m: "不能为空"),
    (r"must be lower-case ascii.*", lambda m: "编号只能用小写英文字母、数字和下划线，并以字母开头"),
    (r"unknown (\w+) '(.*)'", lambda m: f"找不到编号为“{m[2]}”的{KIND_WORDS.get(m[1], m[1])}"),
    (r"refers to unknown question '(.*)'", lambda m: f"找不到编号为“{m[1]}”的情形问题"),
    (r"duplicate \w+ '(.*)' \(first defined in (.*)\)", lambda m: f"编号“{m[1]}”已经有了（在 {m[2]}）"),
    (r"question '(.*)' has no option '(.*)' \(options: (.*)\)",
     lambda m: f"情形问题“{m[1]}”没有选项“{m[2]}”（它的选项：{m[3]}）"),
    (r"region (\S+) needs a citation in cites.*", lambda m: f"依据地区是“{m[1]}”时要写依据文件（没有公开依据就选“推断”）"),
    (r"region (\S+) is not the region of any citation it cites \((.*)\)",
     lambda m: f"依据地区“{m[1]}”不是所引依据文件的地区（{m[2]}）"),
    (r"alias '(.*)' already leads to bundle '(.*)'", lambda m: f"说法“{m[1]}”已经指向一件事“{m[2]}”"),
    (r"needs at least two options", lambda m: "至少要两个选项"),
    (r"option values must be unique", lambda m: "选项值不能重复"),
    (r"must name at least one channel", lambda m: "至少要一个办理渠道"),
    (r"must not be empty", lambda m: "不能为空"),
    (r"a published promise names the document that publishes it", lambda m: "写了承诺时限就要写公布它的文件"),
)


def explain(message: str) -> str:
    """One of check()'s messages in Chinese when it is a common one, else as it is."""
    for pattern, say in _EXPLAINED:
        found = re.fullmatch(pattern, message)
        if found:
            return say(found)
    return message
