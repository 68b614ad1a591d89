"""`yishi catalogue …`: build, check, show, stats and search the bundle catalogue."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable

from . import build as builder
from . import config, db, golden, report
from .checklist import BadAnswer, UnknownBundle, checklist


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


def _records(args: argparse.Namespace) -> db.Records:
    return db.load(db.connect(args.db))


def cmd_check(args: argparse.Namespace) -> int:
    result = builder.check(args.sources)
    for error in result.errors:
        print(error, file=sys.stderr)
    if result.errors:
        print(f"{len(result.errors)} error(s) in {args.sources}", file=sys.stderr)
        return 1
    counts = {kind: len(records) for kind, records in result.catalogue.records.items()}
    print("ok: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()))
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    result = builder.build(args.sources, args.db, args.dictionary, args.derive(args) if args.derive else None)
    for error in result.errors:
        print(error, file=sys.stderr)
    if result.errors:
        kept = "the previous catalogue is unchanged" if args.db.exists() else "nothing was written"
        print(f"{len(result.errors)} error(s) in {args.sources}; {kept}", file=sys.stderr)
        return 1
    print(f"built {len(result.catalogue['bundles'])} bundles into {args.db}; {len(result.written) - 1} derived files")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    answers = {}
    for pair in args.answer:
        key, sep, value = pair.partition("=")
        if not sep:
            print(f"--answer takes KEY=VALUE, got {pair!r}", file=sys.stderr)
            return 2
        answers[key] = value
    try:
        result = checklist(_records(args), args.slug, answers)
    except UnknownBundle:
        print(f"没有这个一件事：{args.slug}（yishi catalogue search 可以按名称查找）", file=sys.stderr)
        return 1
    except BadAnswer as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.json:
        _print_json(result)
    else:
        print(report.checklist_text(result))
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    result = report.stats(_records(args))
    if args.json:
        _print_json(result)
        return 0
    print(f"bundles: {result['bundles']}  " + "  ".join(f"{k}: {v}" for k, v in result["families"].items()))
    for figure, value in result["reduction"].items():
        print(f"average reduction of {figure}: {value:.1%}" + (" (computed along the prerequisite chain)"
                                                               if figure == "working_days" else ""))
    print(f"average reduction of working_days: {result['working_days_with_promises']:.1%} "
          f"(published promises where a bundle has one: {result['promises']} of {result['bundles']})")
    print("citizen-visible records by region: " + "  ".join(f"{r} {v:.1%}" for r, v in result["regions"].items()))
    return 0


def cmd_golden(args: argparse.Namespace) -> int:
    """Compare the golden answers with the sources (exit 1 on any difference), or rewrite them with --update."""
    result = builder.check(args.sources)
    if result.errors:
        for error in result.errors:
            print(error, file=sys.stderr)
        return 1
    records = result.catalogue.records
    if args.update:
        changed = golden.write_all(records, args.dir)
        print(f"{len(changed)} golden file(s) rewritten in {args.dir}: {' '.join(changed) or '-'}")
        return 0
    stale = [slug for slug in records["bundles"]
             if not (args.dir / f"{slug}.txt").exists()
             or (args.dir / f"{slug}.txt").read_text(encoding="utf-8") != golden.render(records, slug)]
    stale += [p.stem for p in args.dir.glob("*.txt") if p.stem not in records["bundles"]]
    unreached = [u for slug in records["bundles"] for u in golden.unreached(records, slug)]
    for slug in stale:
        print(f"differs: {args.dir / (slug + '.txt')}")
    for option in unreached:
        print(f"no golden path reaches: {option}")
    if stale:
        print("run `yishi catalogue golden --update` and read the diff of what citizens will see")
    return 1 if stale or unreached else 0


def cmd_search(args: argparse.Namespace) -> int:
    hits = db.search(db.connect(args.db), args.text, limit=args.limit)
    if args.json:
        _print_json(hits)
    elif not hits:
        print("没有找到相关的一件事。")
    for hit in [] if args.json else hits:
        print(f"{hit['slug']}\t{hit['name']}\t{hit['score']}\t{'、'.join(hit['matched'][:3])}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="yishi", description="Yishi (一事) command line")
    add_commands(parser.add_subparsers(dest="group", required=True))
    return parser


def add_commands(groups: argparse._SubParsersAction) -> dict[str, argparse.ArgumentParser]:
    """The `catalogue` command group, for the `yishi` command line; its commands by name.

    `build` writes the catalogue and the jieba dictionary; a caller may add options to it and set
    `derive` (a function of the parsed arguments giving a catalogue.build.Derive) for more files.
    """
    catalogue = groups.add_parser("catalogue", help="the bundle catalogue")
    commands = catalogue.add_subparsers(dest="command", required=True)

    def add(name: str, handler: Callable[[argparse.Namespace], int], help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        sub.set_defaults(handler=handler)
        sub.add_argument("--sources", type=Path, default=config.sources_dir(), help="YAML sources folder")
        sub.add_argument("--db", type=Path, default=config.db_path(), help="SQLite catalogue")
        return sub

    add("check", cmd_check, "validate the sources, write nothing")
    build = add("build", cmd_build, "validate and build the catalogue and the jieba dictionary")
    build.add_argument("--dictionary", type=Path, default=config.dictionary_dir(), help="jieba dictionary folder")
    build.set_defaults(derive=None)
    show = add("show", cmd_show, "the checklist of one bundle")
    show.add_argument("slug")
    show.add_argument("--answer", action="append", default=[], metavar="KEY=VALUE")
    show.add_argument("--json", action="store_true")
    add("stats", cmd_stats, "figures over all bundles").add_argument("--json", action="store_true")
    check_golden = add("golden", cmd_golden, "compare the golden answers (every answer path, as text) with the sources")
    check_golden.add_argument("--update", action="store_true", help="rewrite them instead")
    check_golden.add_argument("--dir", type=Path, default=config.golden_dir(), help="the golden files' folder")
    search = add("search", cmd_search, "find bundles by words")
    search.add_argument("text")
    search.add_argument("--limit", type=int, default=5)
    search.add_argument("--json", action="store_true")
    return {"build": build, "show": show, "search": search}


def run(parser: argparse.ArgumentParser, argv: list[str] | None) -> int:
    """Parse argv and run the chosen command; a missing file is a message, not a traceback."""
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except FileNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    return run(_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
