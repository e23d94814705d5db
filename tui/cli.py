"""The one-shot commands: ``ask``, ``providers``, ``sessions``. They drive the same core
as the app (``chat.Core`` / ``chat.Exchange``)."""

from __future__ import annotations

import argparse
import errno
import sys
from contextlib import suppress
from pathlib import Path
from typing import TextIO

from .config import Config, ConfigError, load, load_or_defaults, permissions_warning
from .sanitize import clean, mask_url, one_line

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_TERMINATED = 143  # 128 + SIGTERM, as a shell reports a process SIGTERM ended


def _err(message: str) -> None:
    print(f"chatterm: {one_line(message, 400)}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    path = Path(args.config) if args.config else None
    try:
        # The app opens with defaults and shows the error; the commands refuse to guess.
        config = load(path) if args.command else load_or_defaults(path)
    except ConfigError as err:
        _err(f"config error: {err}")
        return EXIT_USAGE
    if args.command and (warning := permissions_warning(config.path)):
        _err(f"warning: {warning}")
    handlers = {"ask": _ask, "providers": _providers, "sessions": _sessions, "keys": _keys}
    handler = handlers.get(args.command or "", _app)
    try:
        return handler(args, config)
    except BrokenPipeError:  # `chatterm ... | head`: the reader left, nothing to report
        sys.stderr.close()
        return EXIT_OK


def _store():  # -> SessionStore
    from .store import SessionStore, default_root

    return SessionStore(default_root())


def _app(args: argparse.Namespace, config: Config) -> int:
    from .app import run_app

    return run_app(args, config)


# -- ask ------------------------------------------------------------------------------------


def _ask(args: argparse.Namespace, config: Config) -> int:
    if args.raw and sys.stdout.isatty():
        _err("--raw writes control characters as received, so only to a file or a pipe")
        return EXIT_USAGE
    try:
        args.params = _param_flags(args)  # before stdin is read: a typo costs nothing
    except ValueError as err:
        _err(str(err))
        return EXIT_USAGE
    if args.prompt:
        # `cat notes.md | chatterm ask "summarise:"`: the prompt, a blank line, the text
        # (as `llm` does). Only a pipe or a file is read, so a test runner's or a cron job's
        # /dev/null (or a terminal) adds nothing and never blocks.
        prompt = " ".join(args.prompt)
        piped = _read_stdin() if _stdin_is_data() else ""
        if piped.strip():
            prompt = f"{prompt}\n\n{piped}"
    else:
        prompt = _read_stdin()
    try:
        files = _attachments(args, config)
    except ValueError as err:
        _err(str(err))
        return EXIT_USAGE
    if not prompt.strip() and not files:
        _err("nothing to ask: give a prompt as arguments or on stdin")
        return EXIT_USAGE
    import asyncio  # here, not at the top: `sessions` and `keys` start ~0.1 s sooner

    try:
        return asyncio.run(_ask_async(args, config, prompt if prompt.strip() else "", files))
    except KeyboardInterrupt:
        _err("cancelled; the partial reply was saved")
        return EXIT_INTERRUPTED


def _param_flags(args: argparse.Namespace) -> dict[str, float | int]:
    """--temperature, --top-p, --max-tokens, --seed as given, checked as [providers.NAME]
    checks them; ValueError naming the flag ("--top-p must be a number from 0 to 1")."""
    from .chat import parse_param
    from .providers.settings import GENERATION_PARAMS

    given = {}
    for key in GENERATION_PARAMS:
        if (text := getattr(args, key, None)) is None:
            continue
        try:
            value = parse_param(key, text)
        except ValueError as err:
            raise ValueError(f"--{key.replace('_', '-')} {err}") from None
        if value is None:
            raise ValueError(f"--{key.replace('_', '-')} is empty: give a value, or leave it out")
        given[key] = value
    return given


def _attachments(args: argparse.Namespace, config: Config) -> list:  # -> [attachments.Loaded]
    """Every -a FILE, read and checked as the app checks them; ValueError (one line naming
    the file) for the first that cannot be attached."""
    if not getattr(args, "attach", None):
        return []
    from . import attachments

    limit = attachments.limit_bytes(config.attachment_limit)
    try:
        return attachments.read_files(args.attach, limit=limit, secrets=config.secrets())
    except attachments.AttachmentError as err:
        raise ValueError(f"cannot attach: {err}") from None


def _stdin_is_data() -> bool:
    """Is stdin a pipe or a regular file (not a terminal, /dev/null or nothing)?"""
    import os
    import stat

    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (AttributeError, ValueError, OSError):  # closed, or replaced (pytest's capture)
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISREG(mode)


def _read_stdin() -> str:
    if sys.stdin is None:
        return ""
    if sys.stdin.isatty():
        print("Type your prompt, then Ctrl-D:", file=sys.stderr)
    return sys.stdin.read().rstrip("\n")


async def _ask_async(
    args: argparse.Namespace, config: Config, prompt: str, files: list | None = None
) -> int:
    from .attachments import compose
    from .chat import Core, Exchange
    from .providers.errors import ProviderError
    from .store import SessionError

    core = Core(config, _store())
    try:
        try:
            session, provider, model = await _choose_session(core, args)  # checked there
            core.check_images(provider, model, files or [])
        except (ConfigError, SessionError, ProviderError) as err:
            _err(str(err))
            return EXIT_USAGE
        content, records = compose(prompt, files or [])
        exchange = Exchange(
            core,
            session,
            content,
            attachments=records,
            provider=provider,
            model=model,
            clean=not args.raw,
            on_notice=lambda text: _err(text),
            on_save_problem=lambda text: _err(f"warning: {text}" if text else "saved again"),
            params=core.params_for(session, getattr(args, "params", None)),
        )
        return await _stream_reply(exchange)
    finally:
        await core.aclose()


async def _stream_reply(exchange) -> int:  # exchange: chat.Exchange
    """Stream to stdout. SIGINT and SIGTERM stop the reply (saved ``cancelled``; exit 130
    or 143); SIGHUP lets it finish, saved ``complete``, with nothing more on the terminal
    (see tui/signals.py)."""
    import asyncio
    import signal

    from .chat import LENGTH
    from .providers.errors import ProviderError
    from .signals import ReplySignals
    from .store import SessionError

    task = asyncio.current_task()
    stopped: list[int] = []

    def stop(signum: int) -> None:
        if task is not None and not stopped:
            stopped.append(signum)
            task.cancel()

    out = sys.stdout
    wrote_newline = True
    loop = asyncio.get_running_loop()
    with ReplySignals(loop, on_hangup=lambda: None, on_stop=stop, interrupt=True) as signals:
        try:
            async for text in exchange.chunks():
                _write(out, text, signals)
                wrote_newline = text.endswith("\n")
        except asyncio.CancelledError:
            if not stopped or task is None:
                raise
            task.uncancel()  # ours: the reply is stopped and saved, the command ends
            _finish_line(out, wrote_newline)
            if stopped[0] == signal.SIGINT:
                _err("cancelled; the partial reply was saved")
                return EXIT_INTERRUPTED
            _err("stopped by SIGTERM; the partial reply was saved as cancelled")
            return EXIT_TERMINATED
        except ProviderError as err:
            _finish_line(out, wrote_newline)
            _err(str(err))
            return EXIT_USAGE if err.usage and not exchange.reply.content else EXIT_FAILED
        except BrokenPipeError:
            raise  # the reader left: `run` ends quietly
        except (OSError, SessionError) as err:  # the disk, not the provider
            _finish_line(out, wrote_newline)
            _err(f"{err}; check free space and permissions")
            return EXIT_FAILED
        except Exception as err:  # a bug: one line, as in the app, never a traceback
            _finish_line(out, wrote_newline)
            _err(
                f"unexpected {type(err).__name__}: {err} (a bug in chatterm; what arrived was "
                "saved; please report it)"
            )
            return EXIT_FAILED
        _finish_line(out, wrote_newline)
        if exchange.finish is not None and exchange.finish.reason == LENGTH:
            # stdout cannot tell a cut reply from a whole one; the exit status stays 0,
            # as the reply is what the model gave
            _err("the reply stopped at the token limit (max_tokens, or the model's own)")
        return EXIT_OK


def _write(out: TextIO, text: str, signals) -> None:  # signals: signals.ReplySignals
    try:
        out.write(text)
        out.flush()
    except OSError as err:
        if err.errno != errno.EIO or not signals.terminal.ttys:
            raise
        # The terminal went away before its SIGHUP was handled: the same, a little early.
        signals.hangup_now()
        with suppress(OSError):
            out.flush()  # what was buffered drains into /dev/null


def _finish_line(out: TextIO, wrote_newline: bool) -> None:
    if not wrote_newline:
        out.write("\n")
        out.flush()


async def _choose_session(core, args: argparse.Namespace):  # -> (Session, provider, model)
    from .choice import choose

    probe = not (args.provider or args.session or args.cont)
    chosen = choose(
        core,
        session=args.session,
        cont=args.cont,
        provider=args.provider,
        model=args.model,
        system=getattr(args, "system", None),
        default=await core.probe_default() if probe else None,  # a local Ollama beats echo
    )
    for notice in chosen.notices:
        _err(f"warning: {notice}")
    session = chosen.session
    if chosen.new:  # its first exchange's flags are the conversation's own (F10), as --system
        session.params = dict(getattr(args, "params", None) or {})
    return session, session.provider, session.model


# -- providers ------------------------------------------------------------------------------


def _providers(args: argparse.Namespace, config: Config) -> int:
    import asyncio

    action = getattr(args, "action", None)
    if action in ("add", "rm"):
        return _edit_providers(args, config)
    if action == "test":
        return asyncio.run(_test_provider(args, config))
    return asyncio.run(_providers_async(args, config))


def _edit_providers(args: argparse.Namespace, config: Config) -> int:
    from .provider_admin import ProviderForm, put_provider, remove_provider

    try:
        if args.action == "rm":
            remove_provider(config, args.name)
            print(f"removed {args.name} from {config.path}")
            return EXIT_OK
        form = ProviderForm(
            name=args.name,
            kind=args.kind,
            base_url=args.base_url,
            api_key_env=args.key_env,
            proxy=args.proxy,
            models=tuple(args.models),
            default_model=args.default_model,
        )
        put_provider(config, form, replacing=args.replace)
    except ConfigError as err:
        _err(str(err))
        return EXIT_USAGE
    print(f"{'changed' if args.replace else 'added'} {args.name} in {config.path}")
    return EXIT_OK


async def _test_provider(args: argparse.Namespace, config: Config) -> int:
    from .chat import Core
    from .providers.errors import ProviderError
    from .store import SessionStore

    core = Core(config, SessionStore(Path("/nonexistent")))  # nothing is saved by a test
    try:
        core.check_choice(args.name, args.test_model)
        model = core.model_for(args.name, args.test_model)
        reply = await core.test_provider(args.name, model)
    except ConfigError as err:
        _err(str(err))
        return EXIT_USAGE
    except ProviderError as err:
        _err(f"{args.name}: {err}")
        return EXIT_FAILED
    finally:
        await core.aclose()
    shown = clean(model) or "its default model"
    print(f"{args.name} ({shown}) answered: {one_line(clean(reply), 200)}")
    return EXIT_OK


async def _providers_async(args: argparse.Namespace, config: Config) -> int:
    from .chat import Core
    from .model_lists import ModelLists
    from .store import SessionStore

    core = Core(config, SessionStore(Path("/nonexistent")))  # no session is touched here
    lists = ModelLists.default()
    try:
        for name in core.provider_names(g4f=True, not_working=args.all):
            p = core.provider(name)
            # "needs key" is the status's own word (with where the key goes), not a flag
            flags = [flag for flag in p.flags() if flag != "needs key"]
            configured = "configured" if p.configured else "needs key: " + p.key_hint()
            # --live asks now; without it the cached live list (if any) is shown as it is.
            listed = await lists.refresh(p, force=True) if args.live else lists.current(p)
            models = listed.models
            print(f"{name}  ({p.label}, kind {p.kind})")
            print(f"  url:     {mask_url(p.base_url or p.url or '-')}")
            if p.settings.proxy:  # shown so a user can tell it is in force; its password never
                print(f"  proxy:   {mask_url(p.settings.proxy)}")
            print(f"  status:  {configured}{'; ' + ', '.join(flags) if flags else ''}")
            shown = ", ".join(clean(m) for m in models)
            default = clean(core.model_for(name)) or "-"
            print(f"  models:  {shown or '-'}  (default {default})")
            print(f"  list:    {clean(listed.describe())}")
    finally:
        await core.aclose()
    return EXIT_OK


# -- sessions -------------------------------------------------------------------------------


def _sessions(args: argparse.Namespace, config: Config) -> int:
    from .store import SessionError, export_json, export_markdown

    store = _store()
    try:
        if args.action == "list":
            return _list_sessions(store, args.grep)
        session_id = store.resolve(args.id)  # any unique start of an id
        if args.action == "rm":
            where = store.delete(session_id)
            print(f"moved {session_id} to {where}")
            return EXIT_OK
        session = store.load(session_id)
    except SessionError as err:
        _err(str(err))
        return EXIT_USAGE
    if args.action == "export" and args.format == "json":
        print(export_json(session))
    else:
        print(export_markdown(session), end="")
    return EXIT_OK


def _list_sessions(store, grep: str | None = None) -> int:
    summaries = store.list()
    for problem in store.problems:
        _err(problem)
    if grep:
        hits = store.search(grep)  # titles and the text of every message, any case
        summaries = [s for s in summaries if s.id in hits]
    if not summaries:
        print("no conversation holds that text" if grep else "no saved conversations yet")
        return EXIT_OK
    lines = [f"{'ID':<22} {'UPDATED':<16} {'MSGS':>4}  {'MODEL':<28} TITLE"]
    for s in summaries:
        when = s.updated.astimezone().strftime("%Y-%m-%d %H:%M")
        model = one_line(f"{s.provider}/{s.model}", 28)
        lines.append(f"{s.id:<22} {when:<16} {s.count:>4}  {model:<28} {one_line(s.title, 60)}")
    print("\n".join(lines))  # one write for thousands of rows
    return EXIT_OK


# -- keys -----------------------------------------------------------------------------------


def _keys(args: argparse.Namespace, config: Config) -> int:
    from . import keymap

    for warning in keymap.clashes(config.keys):
        _err(f"warning: {warning}")
    if args.markdown:
        print(keymap.markdown_table(config.keys), end="")
        return EXIT_OK
    rows = keymap.rows(config.keys)
    width = max(len(keys) for _scope, keys, _what, _id in rows)
    heading = None
    for scope, keys, what, action_id in rows:
        if scope != heading:
            print(f"{'' if heading is None else chr(10)}{keymap.HEADINGS[scope]}")
            heading = scope
        remap = f"[{action_id}]" if keymap.BY_ID[action_id].remap else "(fixed)"
        print(f"  {keys:<{width}}  {what}  {remap}")
    return EXIT_OK
