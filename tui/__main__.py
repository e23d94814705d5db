"""The ``chatterm`` command. Kept light: ``--version`` and ``--help`` import neither
Textual nor httpx, so they answer at once."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__


def _session_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-p", "--provider", help="provider name (see `chatterm providers`)")
    parser.add_argument("-m", "--model", help="model name")
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "-c",
        "--continue",
        dest="cont",
        action="store_true",
        help="continue the latest conversation",
    )
    which.add_argument("-s", "--session", metavar="ID", help="open the conversation ID")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chatterm",
        description="A terminal chat client for large language models. "
        "Without a command, opens the full-screen app.",
    )
    parser.add_argument("--version", action="version", version=f"chatterm {__version__}")
    parser.add_argument("--config", metavar="PATH", help="config file (default: the XDG one)")
    _session_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    ask = commands.add_parser("ask", help="one exchange: the reply streams to stdout")
    _session_options(ask)
    ask.add_argument("--system", metavar="TEXT", help="system prompt for a new conversation")
    ask.add_argument(
        "--raw",
        action="store_true",
        help="write the reply exactly as received (only when stdout is not a terminal)",
    )
    ask.add_argument("prompt", nargs="*", help="the prompt (default: read from stdin)")

    prov = commands.add_parser("providers", help="list providers, their flags and models")
    prov.add_argument(
        "--live", action="store_true", help="ask each configured service for its models"
    )

    sessions = commands.add_parser("sessions", help="list, show, export or remove conversations")
    sub = sessions.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser("list", help="all conversations, newest first")
    show = sub.add_parser("show", help="print a conversation")
    show.add_argument("id")
    export = sub.add_parser("export", help="write a conversation to stdout")
    export.add_argument("id")
    export.add_argument("--format", choices=("md", "json"), default="md")
    rm = sub.add_parser("rm", help="move a conversation to the trash")
    rm.add_argument("id")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .cli import run  # heavy imports start here, after --help/--version answered

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
