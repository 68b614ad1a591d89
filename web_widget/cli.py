"""`yishi`: the catalogue commands, `yishi staff add` for console accounts, `yishi review merge`, `yishi backup`
and `yishi retention purge`."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from assistant import training
from catalogue import cli as catalogue_cli
from yishi import settings


def cmd_staff_add(args: argparse.Namespace) -> int:
    from . import create_app
    from .staff.auth import AccountError, add_account

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            print("the passwords differ", file=sys.stderr)
            return 1
    app = create_app()
    with app.app_context():
        try:
            add_account(args.username, password)
        except AccountError as exc:
            print(exc, file=sys.stderr)
            return 1
    print(f"staff account '{args.username}' created")
    return 0


def cmd_review_merge(args: argparse.Namespace) -> int:
    from assistant.intents import OUT_OF_SCOPE, intent_name
    from catalogue import config as catalogue_config
    from catalogue import db

    from .staff import review_files as review

    source = Path(args.review or settings.path("YISHI_REVIEW_FILE"))
    if not source.exists():
        print(f"no review file at {source}: nothing was labelled yet", file=sys.stderr)
        return 1
    database = db.connect(catalogue_config.db_path())
    try:
        known = {intent_name(slug) for slug in db.load(database)["bundles"]} | {OUT_OF_SCOPE}
    finally:
        database.close()
    report = review.merge(source, Path(args.into), Path(args.heldout), known)
    for text, intent in report.added:
        print(f"added\t{intent}\t{text}")
    for text, intent in report.relabelled:
        print(f"relabelled\t{intent}\t{text}")
    for text, why in report.refused:
        print(f"refused\t{why}\t{text}")
    print(f"{len(report.added)} added, {len(report.relabelled)} relabelled, {len(report.refused)} refused, "
          f"{report.unchanged} already there; into {args.into}")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from yishi.backup import FILES, backup

    copies = backup(Path(args.target))
    for name, copy in copies:
        print(f"{copy}\t{FILES[name]} ({name})")
    if not copies:
        print("nothing to back up: no SQLite file of Yishi's exists yet", file=sys.stderr)
        return 1
    return 0


def cmd_retention_purge(args: argparse.Namespace) -> int:
    from yishi import retention

    report = retention.purge(settings.tracker_store(), settings.web_store(),
                             args.days if args.days is not None else settings.integer("YISHI_RETENTION_DAYS"),
                             dry_run=args.dry_run)
    print(report.line())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="yishi", description="Yishi (一事) command line")
    groups = parser.add_subparsers(dest="group", required=True)
    build = catalogue_cli.add_commands(groups)["build"]
    build.add_argument("--rasa-dir", type=Path, default=settings.path("YISHI_RASA_DATA_DIR"),
                       help="where the Rasa data generated from the catalogue goes")
    build.set_defaults(derive=lambda args: training.writer(args.rasa_dir, settings.home() / "bot" / "domain.yml"))
    staff = groups.add_parser("staff", help="staff console accounts").add_subparsers(dest="command", required=True)
    add = staff.add_parser("add", help="create a staff account (asks for the password)")
    add.add_argument("username")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(handler=cmd_staff_add)
    review = groups.add_parser("review", help="messages labelled in the staff console").add_subparsers(
        dest="command", required=True)
    merge = review.add_parser("merge", help="merge the review file into the training data, never held-out texts")
    merge.add_argument("--review", help="the review file (default: YISHI_REVIEW_FILE or review/labelled.yml)")
    merge.add_argument("--into", default=str(settings.path("YISHI_NLU_DATA") / "reviewed.yml"),
                       help="the training file to merge into; the other files in its folder are checked too")
    merge.add_argument("--heldout", default=str(settings.path("YISHI_EVAL_CASES").parent),
                       help="a held-out file, or a folder of them: texts that must never be trained on")
    merge.set_defaults(handler=cmd_review_merge)
    backup = groups.add_parser("backup", help="a consistent copy of the SQLite files, while Yishi runs")
    backup.add_argument("target", help="the folder to put a new yishi-backup-<time> folder in")
    backup.set_defaults(handler=cmd_backup)
    retention = groups.add_parser("retention", help="deleting old conversations").add_subparsers(
        dest="command", required=True)
    purge = retention.add_parser("purge", help="delete conversations older than YISHI_RETENTION_DAYS (default 180)")
    purge.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    purge.add_argument("--days", type=int, help="instead of YISHI_RETENTION_DAYS")
    purge.set_defaults(handler=cmd_retention_purge)
    return catalogue_cli.run(parser, argv)


if __name__ == "__main__":
    sys.exit(main())
