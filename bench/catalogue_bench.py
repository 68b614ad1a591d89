"""Catalogue benchmarks: full build time, checklist() time per bundle, and the console's citizen-facing diff.
Prints figures; never fails."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from catalogue import changes, config, db
from catalogue.build import build, check
from catalogue.checklist import checklist

BUILD_RUNS = 5
CHECKLIST_CALLS = 200
TARGET_BUILD_S, TARGET_CHECKLIST_MS = 2.0, 2.0


def bench_build() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "catalogue.db"
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "catalogue.cli", "catalogue", "build", "--db", str(out),
                        "--dictionary", str(Path(tmp) / "jieba")], check=True, capture_output=True)
        cold = time.perf_counter() - started
        runs = []
        for _ in range(BUILD_RUNS):
            started = time.perf_counter()
            build(config.sources_dir(), out, Path(tmp) / "jieba")
            runs.append(time.perf_counter() - started)
    print(f"build, new process (python start, imports, jieba, validate, write): {cold:.2f} s  (target ≤ {TARGET_BUILD_S} s)")
    print(f"build, warm process (validate + write), median of {BUILD_RUNS}: {statistics.median(runs):.3f} s")


def bench_checklist() -> None:
    records = db.load(db.connect(config.db_path()))
    per_bundle = {}
    for slug in records["bundles"]:
        times = []
        for _ in range(CHECKLIST_CALLS):
            started = time.perf_counter()
            checklist(records, slug)
            times.append(time.perf_counter() - started)
        per_bundle[slug] = statistics.median(times) * 1000
    worst = max(per_bundle, key=per_bundle.get)
    print(f"checklist() over {len(per_bundle)} bundles ({CHECKLIST_CALLS} calls each, no answers): "
          f"median {statistics.median(per_bundle.values()):.3f} ms, worst {per_bundle[worst]:.3f} ms ({worst})  "
          f"(target ≤ {TARGET_CHECKLIST_MS} ms)")


def bench_diff() -> None:
    """What 重新生成 computes before publishing: every bundle's checklist, with no answers and with each
    single answer, in the live catalogue and in the sources."""
    live = db.load(db.connect(config.db_path()))
    sources = check(config.sources_dir()).catalogue.records
    runs = []
    for _ in range(BUILD_RUNS):
        started = time.perf_counter()
        changes.diff(live, sources)
        runs.append(time.perf_counter() - started)
    print(f"console diff (live catalogue vs sources, {len(sources['bundles'])} bundles), median of {BUILD_RUNS}: "
          f"{statistics.median(runs):.2f} s")


if __name__ == "__main__":
    bench_build()
    bench_checklist()
    bench_diff()
