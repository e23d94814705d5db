"""The ``chatterm`` command. Kept light: ``--version`` and ``--help`` import neither
Textual nor httpx, so they answer at once."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__

# The options that choose a conversation and a model: (dest, flag as a user types it).
SESSION_OPTIONS = (("provider", "-p"), ("model", "-m"), ("cont", "-c"), ("session", "-s"))
# The commands that take them (None: the app).
_TAKES_SESSION_OPTIONS = (None, "ask")
# ask's generation parameters: (flag, metavar, help); the dest is the parameter's name.
_PARAM_FLAGS = (
    ("--temperature", "T", "sampling temperature, 0 to 2"),
    ("--top-p", "P", "nucleus sampling, 0 to 1"),
    ("--max-tokens", "N", "the most tokens the reply may take"),
    ("--seed", "N", "a seed, for services that take one"),
)
# Where the subcommand's copy of each option lands, apart from the main parser's: argparse
# copies a subparser's namespace over the main one, so one shared dest would let `ask`'s
# unset -p (None) silently replace `chatterm -p ollama ask`'s.
_SUB = "sub_"


def _session_options(parser: argparse.ArgumentParser, prefix: str = "") -> None:
    parser.add_argument(
        "-p",
        "--provider",
        dest=prefix + "provider",
        metavar="PROVIDER",
        help="provider name (see `chatterm providers`)",
    )
    parser.add_argument("-m", "--model", dest=prefix + "model", metavar="MODEL", help="model name")
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "-c",
        "--continue",
        dest=prefix + "cont",
        action="store_true",
        help="continue the latest conversation",
    )
    which.add_argument(
        "-s", "--session", dest=prefix + "session", metavar="ID", help="open the conversation ID"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chatterm",
        description="A terminal chat client for large language models. "
        "Without a command, opens the full-screen app.",
    )
    parser.add_argument("--version", action="version", version=f"chatterm {__version__}")
    parser.add_argument("--config", metavar="PATH", help="config file (default: the XDG one)")
    parser.add_argument(
        "--low-bandwidth",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the app sends less: fewer frames while a reply streams, no animations, no "
        "cursor blink (default: on over SSH, or low_bandwidth in config.toml)",
    )
    _session_options(parser)
    parser.add_argument(
        "-a",
        "--attach",
        dest="app_attach",  # not ask's dest: argparse would let ask's [] replace it
        action="append",
        default=[],
        metavar="FILE",
        help="attach a text file to the first prompt (repeatable)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    ask = commands.add_parser(
        "ask",
        help="one exchange: the reply streams to stdout",
        description="One exchange: the reply streams to stdout and the exchange is saved. "
        "-p, -m, -c and -s may stand before or after `ask`. With a prompt and text piped "
        "or redirected to stdin, the prompt is sent, then a blank line, then that text "
        "(`cat notes.md | chatterm ask summarise:`); without a prompt, stdin is the prompt. "
        "Each -a FILE is sent after them as a fenced block headed by its name "
        "(text files up to attachment_limit KB, 200 by default). --temperature, --top-p, "
        "--max-tokens and --seed go over the provider's and the conversation's own for this "
        "exchange; a new conversation keeps them as its own (F10 in the app).",
    )
    _session_options(ask, _SUB)
    ask.add_argument("--system", metavar="TEXT", help="system prompt for a new conversation")
    ask.add_argument(
        "-a",
        "--attach",
        action="append",
        default=[],
        metavar="FILE",
        help="attach a text file, sent after the prompt (repeatable)",
    )
    # Generation parameters, checked as [providers.NAME]'s (tui/chat.py parse_param): for
    # this exchange, over the provider's and the conversation's; a new conversation keeps
    # them as its own (F10).
    for flag, metavar, what in _PARAM_FLAGS:
        ask.add_argument(flag, metavar=metavar, help=what)
    ask.add_argument(
        "--raw",
        action="store_true",
        help="write the reply exactly as received (only when stdout is not a terminal)",
    )
    ask.add_argument(
        "prompt",
        nargs="*",
        help="the prompt (default: read from stdin); text piped to stdin follows it after a "
        "blank line",
    )

    prov = commands.add_parser(
        "providers", help="list providers, their flags and models; add, rm or test one"
    )
    prov.add_argument(
        "--live", action="store_true", help="ask each configured service for its models"
    )
    prov.add_argument(
        "--all", action="store_true", help="also the g4f providers marked not working"
    )
    _provider_actions(prov)

    sessions = commands.add_parser("sessions", help="list, show, export or remove conversations")
    sub = sessions.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = sub.add_parser("list", help="all conversations, newest first")
    listing.add_argument(
        "--grep",
        metavar="TEXT",
        help="only conversations whose title or messages hold TEXT (any case)",
    )
    show = sub.add_parser("show", help="print a conversation")
    show.add_argument("id")
    export = sub.add_parser("export", help="write a conversation to stdout")
    export.add_argument("id")
    export.add_argument("--format", choices=("md", "json"), default="md")
    rm = sub.add_parser("rm", help="move a conversation to the trash")
    rm.add_argument("id")

    keys = commands.add_parser(
        "keys",
        help="every key of the app, with your [keys] from config.toml",
        description="Every action of the app: its keys (yours from [keys] where set), what "
        "it does, and the id to remap it with in config.toml, e.g. `[keys]` then "
        '`model_picker = "f9"`.',
    )
    keys.add_argument("--markdown", action="store_true", help="as a Markdown table (the README's)")
    return parser


def _provider_actions(prov: argparse.ArgumentParser) -> None:
    """``providers add|rm|test``: config.toml edited from scripts (tui/provider_admin.py)."""
    sub = prov.add_subparsers(dest="action", metavar="ACTION")
    add = sub.add_parser("add", help="add a provider to config.toml")
    add.add_argument("name")
    add.add_argument("--kind", required=True, help="openai, ollama, anthropic, ...")
    add.add_argument("--base-url", metavar="URL")
    add.add_argument("--key-env", metavar="VAR", help="the environment variable holding its key")
    add.add_argument("--proxy", metavar="URL")
    add.add_argument(
        "--model",
        action="append",
        default=[],
        dest="models",
        metavar="MODEL",
        help="a model to list (repeatable)",
    )
    add.add_argument("--default-model", metavar="MODEL")
    add.add_argument("--replace", action="store_true", help="change a provider already there")
    rm = sub.add_parser("rm", help="remove a provider from config.toml")
    rm.add_argument("name")
    test = sub.add_parser("test", help="send a one-word prompt and show the reply")
    test.add_argument("name")
    test.add_argument("-m", "--model", dest="test_model", default="")


def merge_session_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """-p/-m/-c/-s count wherever they stand: before the command or after `ask`. The same
    option given twice with different values, -c with -s, or one given to a command that
    takes none, is a usage error (exit 2), never silently dropped."""
    for dest, flag in SESSION_OPTIONS:
        before, after = getattr(args, dest), getattr(args, _SUB + dest, None)
        if before and after and before != after:
            parser.error(f"{flag} {before} before `{args.command}` and {flag} {after} after it")
        setattr(args, dest, before or after)
        if hasattr(args, _SUB + dest):
            delattr(args, _SUB + dest)
    if args.cont and args.session:
        parser.error("-c (the latest conversation) and -s ID cannot be combined")
    if args.app_attach and args.command == "ask":  # `chatterm -a f ask ...`: ask's too
        args.attach = [*args.app_attach, *args.attach]
        args.app_attach = []
    if args.command not in _TAKES_SESSION_OPTIONS:
        if args.app_attach:
            parser.error(f"-a applies to `ask` and the app, not to `{args.command}`")
        given = [flag for dest, flag in SESSION_OPTIONS if getattr(args, dest)]
        if given:
            parser.error(
                f"{', '.join(given)} applies to `ask` and the app, not to `{args.command}`"
            )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    merge_session_options(parser, args)
    if args.command is not None and args.low_bandwidth is not None:
        flag = "--low-bandwidth" if args.low_bandwidth else "--no-low-bandwidth"
        parser.error(f"{flag} applies to the app, not to `{args.command}`")
    from .cli import run  # heavy imports start here, after --help/--version answered

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
