"""`yishi`: the catalogue commands, `yishi staff add|passwd|role|disable|enable|remove|list` for console accounts,
`yishi review merge`, `yishi backup` and `yishi retention purge`. Account changes and merges are recorded in the
audit trail as made by cli:<system user>."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from assistant import training
from catalogue import cli as catalogue_cli
from yishi import settings


@contextmanager
def _store() -> Iterator[None]:
    """The web app's store (YISHI_WEB_DB or YISHI_DATABASE_URL, and Redis for sessions) for a command: a bare
    app of the settings' config, nothing else started."""
    from flask import Flask

    from . import config_from_settings, store

    app = Flask("yishi-cli")
    app.config.from_mapping(config_from_settings())
    store.init_app(app)
    with app.app_context():
        yield


def _actor() -> str:
    """Who runs a command, as the audit trail names them: cli:<system user>."""
    try:
        return "cli:" + getpass.getuser()
    except (KeyError, OSError):  # no user name for this uid
        return "cli:unknown"


def _read_password(args: argparse.Namespace) -> str | None:
    """A password from standard input (--password-stdin) or typed twice at a prompt; never from the arguments."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    password = getpass.getpass("password: ")
    if getpass.getpass("again: ") != password:
        print("the passwords differ", file=sys.stderr)
        return None
    return password


def _account_command(args: argparse.Namespace) -> int:
    """`yishi staff add|passwd|role|disable|enable|remove|list`."""
    from . import store
    from .staff import auth, roles

    password = _read_password(args) if args.command in ("add", "passwd") else None
    if args.command in ("add", "passwd") and password is None:
        return 1
    with _store():
        try:
            if args.command == "add":
                auth.add_account(args.username, password, args.role, by=_actor())
                done = f"staff account '{args.username}' created ({roles.role_key(args.role)})"
            elif args.command == "passwd":
                auth.reset_password(args.username, password, by=_actor())
                done = f"password of '{args.username}' changed; its sessions ended"
            elif args.command == "role":
                changed = auth.set_role(args.username, args.role, by=_actor())
                key = roles.role_key(args.role)
                done = f"'{args.username}' is now {key}" if changed else f"'{args.username}' was {key} already"
            elif args.command in ("disable", "enable"):
                changed = auth.set_disabled(args.username, args.command == "disable", by=_actor())
                done = f"'{args.username}' {args.command}d" + ("" if changed else " already")
            elif args.command == "remove":
                auth.remove_account(args.username, by=_actor())
                done = f"staff account '{args.username}' removed; its sessions ended"
            else:
                for account in store.staff_accounts():
                    state = "disabled" if account["disabled"] else "active"
                    print(f"{account['username']}\t{account['role']}\t{roles.ROLE_NAMES.get(account['role'], '?')}"
                          f"\t{state}")
                return 0
        except auth.AccountError as exc:
            print(exc, file=sys.stderr)
            return 1
    print(done)
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
    summary = (f"{len(report.added)} added, {len(report.relabelled)} relabelled, {len(report.refused)} refused, "
               f"{report.unchanged} already there; into {args.into}")
    if report.added or report.relabelled:
        from . import store

        with _store():
            store.audit(_actor(), "merge", str(args.into), summary,
                        after={"added": len(report.added), "relabelled": len(report.relabelled),
                               "refused": len(report.refused)})
    print(summary)
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
    role_help = "管理员|admin, 内容编辑|editor, 审核员|reviewer or 只读|readonly"
    add = staff.add_parser("add", help="create a staff account with a role (asks for the password)")
    add.add_argument("username")
    add.add_argument("--role", required=True, help=role_help)
    passwd = staff.add_parser("passwd", help="set an account's password (asks for it); its sessions end")
    passwd.add_argument("username")
    for command in (add, passwd):
        command.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    role = staff.add_parser("role", help="give an account another role")
    role.add_argument("username")
    role.add_argument("role", help=role_help)
    for name, text in (("disable", "disable an account for a while (its sessions end)"),
                       ("enable", "enable a disabled account"), ("remove", "remove an account (its sessions end)")):
        staff.add_parser(name, help=text).add_argument("username")
    staff.add_parser("list", help="the accounts with their role and state")
    for command in staff.choices.values():
        command.set_defaults(handler=_account_command)
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
