"""`yishi`: the catalogue commands, and `yishi staff add` for console accounts."""

from __future__ import annotations

import argparse
import getpass
import sys

from catalogue import cli as catalogue_cli


def cmd_staff_add(args: argparse.Namespace) -> int:
    from . import create_app
    from .staff_auth import AccountError, add_account

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="yishi", description="Yishi (一事) command line")
    groups = parser.add_subparsers(dest="group", required=True)
    catalogue_cli.add_commands(groups)
    staff = groups.add_parser("staff", help="staff console accounts").add_subparsers(dest="command", required=True)
    add = staff.add_parser("add", help="create a staff account (asks for the password)")
    add.add_argument("username")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(handler=cmd_staff_add)
    return catalogue_cli.run(parser, argv)


if __name__ == "__main__":
    sys.exit(main())
