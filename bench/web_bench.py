"""The citizens' path, timed (issue 13): HTTP client with cookies → the web app (gunicorn) → Rasa → the
action server → the tracker store, beside a bare Rasa 3.6 server (a tiny model this script trains:
whitespace tokens, one count featurizer, DIET for 5 epochs, RulePolicy; in-memory tracker store; one
server) measured in the same run. Prints ratios and absolute figures:

- one visitor: the scripted conversation, one visitor after another (p50);
- 20 visitors: the scripted conversation, and random held-out bundle questions (most answers carry a
  checklist): throughput, p50, p99;
- one 60-message conversation: the median of each block of 10 messages;
- memory of every process.

Figures, never pass/fail: this machine is shared and noisy, compare the ratios.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from assistant.evaluation import load_cases  # noqa: E402
from bench.chat_bench import CONVERSATION  # noqa: E402
from bench.load import UNLIMITED_RATES, RestVisitor, Run, WebVisitor, cpu_seconds, crowd, one_by_one, percentile, tree_mb  # noqa: E402
from catalogue import config as catalogue_config  # noqa: E402
from catalogue import db, workdays  # noqa: E402
from ops import stack as stack_module  # noqa: E402
from yishi import lean, settings  # noqa: E402

BARE_FILES = {
    "config.yml": """\
        recipe: default.v1
        language: en
        assistant_id: bare
        pipeline:
          - name: WhitespaceTokenizer
          - name: CountVectorsFeaturizer
          - name: DIETClassifier
            epochs: 5
        policies:
          - name: RulePolicy
        """,
    "domain.yml": """\
        version: "3.1"
        intents: [greet, bye]
        responses:
          utter_greet:
            - text: "Hello!"
        """,
    "data/nlu.yml": """\
        version: "3.1"
        nlu:
          - intent: greet
            examples: |
              - hello
              - hi
          - intent: bye
            examples: |
              - bye
              - goodbye
        """,
    "data/rules.yml": """\
        version: "3.1"
        rules:
          - rule: greet
            steps:
              - intent: greet
              - action: utter_greet
        """,
}


def bare_rasa(folder: Path) -> tuple[subprocess.Popen, str]:
    """Train the tiny model and start a bare Rasa server on it (REST channel, in-memory tracker store)."""
    for name, text in BARE_FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    (folder / "credentials.yml").write_text("rest:\n", encoding="utf-8")
    rasa = str(Path(sys.executable).parent / "rasa")
    env = {"RASA_TELEMETRY_ENABLED": "false", "PATH": "/usr/bin:/bin", "HOME": str(folder)}
    subprocess.run([rasa, "train", "--fixed-model-name", "bare", "--out", "models"], cwd=folder, env=env, check=True,
                   capture_output=True)
    port = stack_module.free_port()
    process = subprocess.Popen([rasa, "run", "--model", "models/bare.tar.gz", "--credentials", "credentials.yml",
                                "-i", "127.0.0.1", "-p", str(port)], cwd=folder, env=env,
                               stdout=open(folder / "rasa.log", "w"), stderr=subprocess.STDOUT)  # noqa: SIM115
    url = f"http://127.0.0.1:{port}"
    stack_module._wait(f"{url}/", 180, [process])
    RestVisitor(url).say("hello")  # the first message loads what Rasa loads lazily
    return process, url


def questions() -> list[str]:
    """The held-out set's bundle questions (never trained on): most answers carry a checklist."""
    return [c["text"] for c in load_cases(settings.path("YISHI_EVAL_CASES")) if c["kind"] == "bundle"]


def stored_sizes(tracker_db: Path) -> str:
    """Bytes the tracker store holds per conversation, beside what the store before lean events held for the
    same events: every bundle answer whole (each reference expanded back into the reply it stood for,
    yishi.lean) and the JSON ASCII-escaped, as Rasa's own store writes it."""
    records = db.load(db.connect(catalogue_config.db_path()))
    today = workdays.today()
    with sqlite3.connect(tracker_db) as tracker:
        rows = tracker.execute("select sender_id, type_name, data from events").fetchall()
    conversations = len({sender for sender, _, _ in rows}) or 1
    stored = before = 0
    bots_stored = bots_before = bots = 0
    for _, kind, data in rows:
        event = json.loads(data)
        custom = (event.get("data") or {}).get("custom")
        if lean.is_lean(custom) and (expanded := lean.expand(custom, records, today)) is not None:
            text, payload = expanded
            payload.pop("changed")
            event = {**event, "text": text, "data": {**event["data"], "custom": payload}}
        now, then = len(data.encode("utf-8")), len(json.dumps(event))
        stored, before = stored + now, before + then
        if kind == "bot":
            bots, bots_stored, bots_before = bots + 1, bots_stored + now, bots_before + then
    return (f"tracker store: {len(rows)} events in {conversations} conversations; average bot event "
            f"{bots_stored / max(1, bots):.0f} bytes stored ({bots_before / max(1, bots):.0f} before lean events); "
            f"{stored / conversations / 1024:.1f} KB per conversation ({before / conversations / 1024:.1f} KB before)")


def blocks(run: Run, size: int = 10) -> list[float]:
    return [statistics.median(run.times[i:i + size]) for i in range(0, len(run.times), size)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30, help="length of each 20-visitor run")
    parser.add_argument("--rasa-servers", type=int, default=settings.integer("YISHI_RASA_SERVERS"))
    args = parser.parse_args()
    texts = questions()
    rng = random.Random(7)

    def scripted() -> list[str]:
        return CONVERSATION

    def held_out() -> list[str]:
        return rng.sample(texts, 8)

    with tempfile.TemporaryDirectory() as tmp:
        bare_process, bare_url = bare_rasa(Path(tmp) / "bare")
        stack = stack_module.start(Path(tmp) / "stack", rasa_servers=args.rasa_servers)
        try:
            web = stack.start_web(extra_env=UNLIMITED_RATES)
            print(f"-- the citizens' path: web app (gunicorn, {settings.integer('YISHI_WEB_WORKERS')} workers) → "
                  f"{args.rasa_servers} Rasa server(s) → action server → SQLite tracker store; beside bare Rasa 3.6 "
                  f"(tiny DIET + RulePolicy model, in-memory tracker store, 1 server), in the same run")
            bare_one = one_by_one(lambda: RestVisitor(bare_url), lambda: ["hello"] * 8, 15)
            processes = {"web app": stack.processes[-1].pid, "Rasa servers": None, "action server": stack.processes[0].pid}
            rasa_pids = [p.pid for p in stack.processes[1:-1]]
            used = {name: (cpu_seconds(pid) if pid else sum(map(cpu_seconds, rasa_pids))) for name, pid in processes.items()}
            web_one = one_by_one(lambda: WebVisitor(web.url), scripted, 15)
            used = {name: ((cpu_seconds(pid) if pid else sum(map(cpu_seconds, rasa_pids))) - used[name]) * 1000
                    / len(web_one.times) for name, pid in processes.items()}
            print(f"one visitor, bare Rasa:         {bare_one.line()}")
            print(f"one visitor, Yishi (scripted):  {web_one.line()}")
            print("  CPU per message: " + ", ".join(f"{name} {ms:.1f} ms" for name, ms in used.items())
                  + " (the rest of the latency is waiting on each other and on the network stack)")
            bare_many = crowd(lambda: RestVisitor(bare_url), lambda: ["hello"] * 8, args.users, args.seconds)
            web_many = crowd(lambda: WebVisitor(web.url), scripted, args.users, args.seconds)
            web_real = crowd(lambda: WebVisitor(web.url), held_out, args.users, args.seconds)
            print(f"{args.users} visitors, bare Rasa:        {bare_many.line()}")
            print(f"{args.users} visitors, Yishi scripted:   {web_many.line()}")
            print(f"{args.users} visitors, Yishi held-out:   {web_real.line()}")
            long = one_by_one(lambda: WebVisitor(web.url), lambda: [texts[i % len(texts)] for i in range(60)], 1)
            medians = blocks(long)
            print("one 60-message conversation, median per 10 messages: "
                  + ", ".join(f"{m:.0f}" for m in medians) + " ms")
            rate = lambda run: len(run.times) / run.seconds  # noqa: E731
            print("ratios (targets): "
                  f"one visitor p50 {statistics.median(web_one.times) / statistics.median(bare_one.times):.2f}× bare (≤ 1.5); "
                  f"20 visitors throughput {rate(web_many) / rate(bare_many):.2f}× bare (≥ 1.0), "
                  f"p99 {percentile(web_many.times, 0.99) / percentile(bare_many.times, 0.99):.2f}× bare (≤ 1.0); "
                  f"held-out throughput {rate(web_real) / rate(bare_many):.2f}×, "
                  f"p99 {percentile(web_real.times, 0.99) / percentile(bare_many.times, 0.99):.2f}×; "
                  f"messages 51–60 {medians[-1] / medians[0]:.2f}× messages 1–10 (≤ 1.2)")
            print(stored_sizes(stack.tracker_db))
            names = ["action server"] + [f"Rasa server {i + 1}" for i in range(args.rasa_servers)] + ["web app"]
            print("memory: " + ", ".join(f"{n}: {tree_mb(p.pid):.0f} MB" for n, p in zip(names, stack.processes))
                  + f", bare Rasa: {tree_mb(bare_process.pid):.0f} MB")
        finally:
            stack.stop()
            bare_process.terminate()
            bare_process.wait(timeout=20)


if __name__ == "__main__":
    main()
