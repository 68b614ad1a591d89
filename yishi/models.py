"""The live model, the candidate the console trained, and the models that were live before (issue 16, req 2).

- live: YISHI_MODEL (models/yishi.tar.gz), what every Rasa server loads when it starts;
- candidate: models/candidate/yishi-candidate.tar.gz with candidate.json (who started the training, from what);
- history: models/history/<UTC time>-<digest>.tar.gz, one per model that was live before, each with a .json
  beside it (who made it live, when, why, its figures), kept for 回滚 (the newest YISHI_MODEL_HISTORY).

`go_live` copies the live model into the history, puts the new one in place atomically (a restart loads it) and
loads it into every running Rasa server through Rasa's `PUT /model`, one server after the other (each loads it
in a worker thread: rasa_ext/model_loading.py, so conversations keep being answered). No Rasa import here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import requests

from yishi import settings

CANDIDATE = "yishi-candidate.tar.gz"


def live_path() -> Path:
    return settings.path("YISHI_MODEL")


def candidate_dir() -> Path:
    return live_path().parent / "candidate"


def history_dir() -> Path:
    return live_path().parent / "history"


def digest(path: Path) -> str:
    """The first 12 hex digits of the file's SHA-256: names a model in the console and the audit trail."""
    sha = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()[:12]


@dataclass
class Model:
    path: Path
    digest: str
    built: float  # the file's modification time
    meta: dict[str, Any]

    @property
    def built_at(self) -> str:
        return dt.datetime.fromtimestamp(self.built).strftime("%Y-%m-%d %H:%M")


def describe(path: Path) -> Model | None:
    if not path.exists():
        return None
    try:
        meta = json.loads(path.with_suffix("").with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = {}
    return Model(path, digest(path), path.stat().st_mtime, meta)


def live() -> Model | None:
    return describe(live_path())


def candidate() -> Model | None:
    return describe(candidate_dir() / CANDIDATE)


def history() -> list[Model]:
    """Models that were live before, newest first."""
    folder = history_dir()
    found = [describe(p) for p in folder.glob("*.tar.gz")] if folder.exists() else []
    return sorted((m for m in found if m), key=lambda m: m.path.name, reverse=True)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


class LoadFailed(RuntimeError):
    """A Rasa server did not take the model; the message names it (for the console, in Chinese)."""


def server_urls() -> list[str]:
    """Every running Rasa server: YISHI_RASA_SERVER_URLS, else YISHI_RASA_URLS (the embedded profile's servers)."""
    return settings.listing("YISHI_RASA_SERVER_URLS") or settings.rasa_urls()


def _auth() -> dict[str, str]:
    if not settings.text("YISHI_RASA_JWT_SECRET"):
        raise LoadFailed("没有设置 YISHI_RASA_JWT_SECRET，无法让 Rasa 服务器换用模型（make run 会设置它）。")
    token = jwt.encode({"user": {"username": "yishi-models", "role": "admin"}}, settings.text("YISHI_RASA_JWT_SECRET"),
                       algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


def load_everywhere(path: Path, urls: list[str] | None = None, timeout: float = 300) -> list[str]:
    """Load the model file into each Rasa server in turn; the servers that took it. Raises LoadFailed at the first
    that did not (the ones before it run the new model: the caller rolls them back)."""
    done, headers = [], _auth()
    for url in urls if urls is not None else server_urls():
        try:
            answer = requests.put(f"{url}/model", json={"model_file": str(path.resolve())}, headers=headers,
                                  timeout=timeout)
        except requests.RequestException as exc:
            raise LoadFailed(f"Rasa 服务器 {url} 没有响应（{type(exc).__name__}），新模型未能在它上面加载。") from exc
        if answer.status_code != 204:
            raise LoadFailed(f"Rasa 服务器 {url} 拒绝了模型（HTTP {answer.status_code}）：{answer.text[:300]}")
        done.append(url)
    return done


def _replace_live(source: Path, meta: dict[str, Any], archive: bool = True) -> Path | None:
    """Keep the live model in the history, then put source in its place atomically; the history entry of the model
    that was live (None when there was none)."""
    target = live_path()
    history_dir().mkdir(parents=True, exist_ok=True)
    kept = None
    current = live() if archive else None
    if current is not None:
        kept = next((m.path for m in history() if m.digest == current.digest), None)
        if kept is None:
            stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            kept = history_dir() / f"{stamp}-{current.digest}.tar.gz"
            shutil.copy2(target, kept)
            _write_json(kept.with_suffix("").with_suffix(".json"), current.meta | {"retired": time.time()})
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.copy2(source, tmp)
    os.replace(tmp, target)
    _write_json(target.with_suffix("").with_suffix(".json"), meta)
    inputs = source.with_name(source.name.replace(".tar.gz", ".inputs"))
    if inputs.exists():  # scripts/train.sh then knows the live model matches these inputs
        shutil.copy2(inputs, target.with_name("yishi.inputs"))
    _prune(keep=kept)
    return kept


def _prune(keep: Path | None = None) -> None:
    """Keep the newest YISHI_MODEL_HISTORY models of the history (and `keep`, the one just retired)."""
    for old in history()[settings.integer("YISHI_MODEL_HISTORY"):]:
        if old.path == keep:
            continue
        old.path.unlink(missing_ok=True)
        old.path.with_suffix("").with_suffix(".json").unlink(missing_ok=True)


def go_live(source: Path, by: str, reason: str, figures: dict[str, Any] | None = None) -> dict[str, Any]:
    """Make source the live model (see the module's docstring); what was done, for the audit trail."""
    before = live()
    meta = {"by": by, "at": time.time(), "reason": reason, "figures": figures or {},
            "from": digest(source)}
    previous = _replace_live(source, meta)
    try:
        loaded = load_everywhere(live_path())
    except LoadFailed:
        if before is not None and previous is not None:  # the previous model back in place and into every server
            _replace_live(previous, before.meta, archive=False)  # the new one never served: not history
            try:
                load_everywhere(live_path())
            except LoadFailed:
                pass
        raise
    return {"before": before.digest if before else None, "after": digest(live_path()), "servers": loaded}
