"""One exchange: prompt -> provider stream -> saved message. No Textual here.

Both the app and ``chatterm ask`` drive this, so saving, fallback and cleaning of model
text behave the same everywhere.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import providers as registry
from .config import Config, ConfigError
from .providers.errors import BadSetting, EmptyReply, ProviderError, RateLimited, UnknownModel
from .providers.parts import Finish, Part, Reasoning, Usage
from .providers.settings import GENERATION_PARAMS
from .sanitize import StreamCleaner, one_line
from .store import Message, Session, SessionError, SessionStore
from .store.model import Attachment

if TYPE_CHECKING:  # the providers' base imports httpx, which start-up can do without
    from .providers.base import Provider

SAVE_INTERVAL = 1.0  # seconds of reply text at risk if the process dies mid-stream
RETRY_AFTER_LIMIT = 20.0  # wait for a 429 this short, once; a longer one is reported
# The user turn that asks a model to go on with a reply cut at its token limit. It is sent
# once, after the partial reply as the assistant's turn, and never saved.
CONTINUE_PROMPT = "Continue."
LENGTH = "length"  # the Finish reason of a reply stopped at the token limit


class Core:
    """Configured provider instances (one HTTP client each) and the session store."""

    def __init__(self, config: Config, store: SessionStore) -> None:
        self.config = config
        self.store = store
        self._instances: dict[str, Provider] = {}
        self._retired: list[Provider] = []

    def provider(self, name: str) -> Provider:
        if name not in self._instances:
            self._instances[name] = registry.build(self.config.settings_for(name))
        return self._instances[name]

    def provider_names(self, *, g4f: bool = False, not_working: bool = False) -> list[str]:
        """The configured and built-in providers; with *g4f*, then the installed g4f's
        (``g4f/NAME``, importing it: only for lists a user asked for), those marked not
        working only with *not_working*."""
        names = self.config.provider_names()
        if g4f:
            from .providers import g4f_installed

            if g4f_installed():
                from .providers.g4f_bridge import names as g4f_names

                names += [n for n in g4f_names(include_not_working=not_working) if n not in names]
        return names

    async def forget(self, name: str | None = None) -> None:
        """Drop cached instances after settings change, so the next call uses the new ones.

        Their clients close at ``aclose``: a reply still streaming through one is not cut.
        """
        names = [name] if name else list(self._instances)
        for n in names:
            if (instance := self._instances.pop(n, None)) is not None:
                self._retired.append(instance)

    async def aclose(self) -> None:
        for instance in [*self._instances.values(), *self._retired]:
            await instance.aclose()
        self._instances.clear()
        self._retired.clear()

    def warm_up(self, name: str) -> None:
        """Import provider *name*'s module and load what its first request needs, so the
        first Enter does not wait for them. Safe in a thread; a failure here is left for
        the real send to report."""
        registry.provider_class(self.config.provider_config(name).kind)
        from .providers.base import warm_up

        warm_up()

    def default_choice(self) -> tuple[str, str]:
        """(provider, model) from the config, without any network probe."""
        name = self.config.default_provider or self._first_usable_offline()
        return name, self.model_for(name)

    def model_for(self, name: str, chosen: str | None = None) -> str:
        """The model provider *name* answers with, the one rule for the CLI and the app:
        *chosen* (-m), else its own ``[providers.NAME] default_model``, else the top-level
        ``default_model`` when it is the default provider, else its built-in default."""
        if chosen:
            return chosen
        own = self.config.providers.get(name)
        if own is not None and own.default_model:
            return own.default_model
        if name == self.config.default_provider and self.config.default_model:
            return self.config.default_model
        provider = self.provider(name)
        return provider.instance_default_model or first_listed(provider)

    def _first_usable_offline(self) -> str:
        if self.provider("openai").configured:
            return "openai"
        return "echo"

    async def probe_default(self) -> tuple[str, str]:
        """Like default_choice, but a reachable local Ollama beats echo (a short probe)."""
        name, model = self.default_choice()
        if name == "echo" and not self.config.default_provider:
            ollama = self.provider("ollama")
            if await ollama.reachable(timeout=0.3):
                return "ollama", ollama.instance_default_model
        return name, model

    async def test_provider(self, name: str, model: str = "", limit: int = 200) -> str:
        """Send a one-word prompt (nothing is saved) and return the start of the reply."""
        instance = self.provider(name)
        cleaner = StreamCleaner()
        parts: list[str] = []
        async for chunk in instance.stream(model, [{"role": "user", "content": "Say OK."}]):
            if not isinstance(chunk, str):
                continue  # reasoning, usage, finish: the test shows the reply's start only
            parts.append(cleaner.feed(chunk))
            if sum(map(len, parts)) >= limit:
                break
        return ("".join(parts) + cleaner.flush())[:limit]

    def takes_images(self, provider: str, model: str) -> bool:
        from .images import takes_images

        instance = self.provider(provider)
        return instance.sends_images and takes_images(model, instance.settings.options)

    def check_images(self, provider: str, model: str, files: Sequence[Any]) -> None:
        """Before anything is sent: an image attached for a model that takes none is refused
        (BadSetting, a usage error), naming the first such file."""
        image = next((f for f in files if getattr(f, "mime", "")), None)
        if image is not None and not self.takes_images(provider, model):
            raise BadSetting(
                f"cannot attach: {image.path} is an image and {model or provider} takes no "
                f"images: choose a vision model (-m, F2), or set vision = true in "
                f"[providers.{provider}] if it does take them",
                provider="",
            )

    def params_for(
        self,
        session: Session | None,
        overrides: Mapping[str, float | int | None] | None = None,
        *,
        provider: str | None = None,
    ) -> dict[str, float | int]:
        """The generation parameters of one exchange, the one rule for the app and ``ask``:
        the provider's own (``[providers.NAME]``), under *session*'s (F10, its ``[params]``),
        under *overrides* (ask's flags; None: a flag not given). Without *provider*, the
        layers over a provider's own: what an Exchange takes, since each provider it tries
        (a fallback too) puts its own under them (``Provider.call_params``); with it, the
        whole of what that provider sends."""
        given = {k: v for k, v in (overrides or {}).items() if v is not None}
        layered = {**(session.params if session is not None else {}), **given}
        if provider is not None:
            return self.provider(provider).call_params(layered)
        return {k: layered[k] for k in GENERATION_PARAMS if k in layered}

    def check_choice(self, provider: str, model: str) -> None:
        """Usage errors before anything is sent: unknown provider, fixed-list model."""
        if not self.config.knows(provider):
            raise ConfigError(
                f"unknown provider {provider!r}; known: {', '.join(self.provider_names())}"
            )
        instance = self.provider(provider)
        models = instance.instance_models
        if model and models and not instance.accepts_any_model and model not in models:
            raise UnknownModel(
                f"unknown model {model!r}; {provider} offers: {', '.join(models)}",
                provider=provider,
            )


def parse_param(key: str, text: str) -> float | int | None:
    """*text* (an ask flag, an F10 field) as generation parameter *key*: None when empty;
    ValueError saying what it must be in the config file's words ("must be a number from 0
    to 2"), never quoting it, when it is not one [providers.NAME] would take."""
    from .config import PARAM_RULES  # the one rule, config.toml's too

    what, passes = PARAM_RULES[key]
    text = text.strip()
    if not text:
        return None
    try:
        value: float | int = int(text)
    except ValueError:
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"must be {what}") from None
    if not passes(value):
        raise ValueError(f"must be {what}")
    return value


def first_listed(provider: Provider) -> str:
    """For an endpoint with no model set anywhere (an LM Studio, a vLLM): the first of its
    cached live list, else "" (servers that serve one model take an empty name for it)."""
    from .model_lists import ModelLists

    if not provider.has_live_list():
        return ""
    listed = ModelLists.default().current(provider)
    return listed.models[0] if listed.source == "live" and listed.models else ""


def continuable(session: Session) -> Message | None:
    """The reply ``continue_reply`` would go on with: the last message, when it is a reply
    the service stopped at its token limit; else None."""
    last = session.messages[-1] if session.messages else None
    if last is None or last.role != "assistant" or last.finish != LENGTH:
        return None
    return last


@dataclass
class Notice:
    """Something the user should see that is not reply text (fallback, waiting)."""

    text: str


class Exchange:
    """Runs one prompt (or a regeneration) and saves as it goes.

    Iterate ``chunks()`` for cleaned reply text. When it ends, ``reply`` holds the saved
    message; a ProviderError propagates after the partial reply was saved as ``error``;
    cancellation saves it as ``cancelled``.

    What else the provider sends (tui/providers/parts.py) is never reply text: each part
    goes to ``on_part`` as it comes (reasoning cleaned like the text, in its own cleaner),
    and ``reasoning`` (all of it, joined), ``usage`` and ``finish`` (the last of each) hold
    them for the reply that is given: a provider that failed before its first word, or a
    retry after a 429, starts them afresh. *params* (generation parameters, e.g. a
    conversation's own) go to the provider over its configured ones.
    """

    def __init__(
        self,
        core: Core,
        session: Session,
        prompt: str | None,
        *,
        provider: str,
        model: str,
        clean: bool = True,
        on_notice: Callable[[str], None] | None = None,
        on_save_problem: Callable[[str], None] | None = None,
        attachments: Sequence[Attachment] = (),
        on_part: Callable[[Part], None] | None = None,
        params: Mapping[str, float | int | None] | None = None,
        resume: Message | None = None,
    ) -> None:
        self.core = core
        self.session = session
        self.prompt = prompt
        # The records of the files whose blocks end *prompt* (see tui/attachments.py).
        self.attachments = list(attachments)
        self.provider = provider
        self.model = model
        self.clean = clean
        self.on_notice = on_notice or (lambda _text: None)
        self.on_part = on_part or (lambda _part: None)
        self.params = dict(params) if params else None
        self.usage: Usage | None = None  # the service's token counts, when it sent them
        self.finish: Finish | None = None  # why the reply ended, when the service said
        self._reasoning: list[str] = []  # cleaned reasoning pieces, as given to on_part
        self.reply = Message(role="assistant", content="", provider=provider, model=model)
        self._parts: list[str] = []
        # Continuing a reply stopped at the limit (*resume*, the session's last message):
        # the new text, reasoning and output tokens are added to what it already holds.
        self.resume = resume
        self._before = ("", 0, 0)  # (reasoning, its tokens, output tokens) the resumed reply held
        if resume is not None:
            self.reply, self._parts = resume, [resume.content]
            self._before = (
                resume.reasoning,
                resume.reasoning_tokens or 0,
                resume.output_tokens or 0,
            )
        self.first_chunk_at: float | None = None
        self.started_at = 0.0
        self._last_save = 0.0
        # Called with a warning when a save fails (the reply goes on in memory) and with ""
        # once saving works again.
        self.on_save_problem = on_save_problem or (lambda _text: None)
        self.save_problem = ""  # why the last save failed; "" when the file is up to date
        self.failures: list[str] = []  # one line per fallback provider that failed first
        self.context_tokens: int | None = None  # the answering model's context, when known
        self.left_out = 0  # messages not sent to fit that context (tui/context.py)

    async def chunks(self) -> AsyncIterator[str]:
        # The session's streaming lock, held to the very end: a reply left `streaming` with
        # the lock free was cut by SIGKILL or power loss, and load() shows it interrupted.
        with self.core.store.streaming(self.session):
            async with aclosing(self._chunks()) as chunks:
                async for text in chunks:
                    yield text

    async def _chunks(self) -> AsyncIterator[str]:
        store = self.core.store
        self.started_at = time.monotonic()
        if self.prompt is not None:
            message = Message(role="user", content=self.prompt, attachments=self.attachments)
            # A full disk must not lose the prompt or stop the reply: append() puts the
            # message in the session first, so the next save that works writes it too.
            self._try(lambda: store.append(self.session, message))
        history = self.session.history()
        self.reply.status = "streaming"
        if self.resume is None:
            self._try(lambda: store.append(self.session, self.reply))
        else:  # the partial reply is the assistant's turn; the model is asked to go on
            history.append({"role": "user", "content": CONTINUE_PROMPT})
            self.reply.finish = ""  # no longer stopped at the limit, unless it is again
            self._try(lambda: self._save("streaming"))
        self._last_save = time.monotonic()
        try:
            async for text in self._stream_with_fallback(history):
                self._parts.append(text)
                yield text
                if time.monotonic() - self._last_save >= SAVE_INTERVAL:
                    self._try(lambda: self._save("streaming"))
        except ProviderError as err:
            error = self.error_text(str(err))
            self._try(lambda: self._save("error", error))
            raise
        except (asyncio.CancelledError, KeyboardInterrupt, GeneratorExit):
            self._try(lambda: self._save("cancelled", self.error_text()))
            raise
        except Exception as err:  # a bug still leaves the partial reply saved, marked
            bug = one_line(f"unexpected {type(err).__name__}: {err}", 300)
            self._try(lambda: self._save("error", self.error_text(bug)))
            raise
        self._save_at_end()

    @property
    def _said(self) -> bool:
        """Has this exchange given any text yet (a resumed reply's own text not counted)?
        After that, no fallback provider or retry may start the reply afresh."""
        return len(self._parts) > (self.resume is not None)

    @property
    def reasoning(self) -> str:
        """The model's reasoning for this reply, cleaned; "" when it sent none."""
        return "".join(self._reasoning)

    def error_text(self, final: str = "") -> str:
        """Every provider's one-line error, in the order tried: one per line."""
        return "\n".join([*self.failures, *([final] if final else [])])

    def _save(self, status: str, error: str = "") -> None:
        self.reply.content = "".join(self._parts)
        self.reply.status = status
        self.reply.error = error
        self._keep_parts()
        self._last_save = time.monotonic()  # a failed save is retried a second later
        self.core.store.update_message(self.session, self.reply)

    def _keep_parts(self) -> None:
        """Reasoning, token counts and finish reason on the reply, as far as they came."""
        reasoning, thought_before, output_before = self._before
        self.reply.reasoning = reasoning + self.reasoning
        if self.usage is not None:
            self.reply.input_tokens = self.usage.input_tokens
            out, thought = self.usage.output_tokens, self.usage.reasoning_tokens
            self.reply.output_tokens = None if out is None else output_before + out
            if thought is not None:  # else the count the resumed reply had stays
                self.reply.reasoning_tokens = thought_before + thought
        if self.finish is not None:
            self.reply.finish = self.finish.reason

    def _try(self, save: Callable[[], None]) -> bool:
        """Run *save*; a failure (a full disk) is reported once and the reply goes on in
        memory, to be saved by the next attempt that works."""
        try:
            save()
        except (OSError, SessionError) as err:
            if not self.save_problem:
                self.on_save_problem(
                    f"could not save the reply ({one_line(str(err), 200)}); it goes on in "
                    "memory and saving is retried every second"
                )
            self.save_problem = one_line(str(err), 300)
            return False
        if self.save_problem:
            self.save_problem = ""
            self.on_save_problem("")
        return True

    def _save_at_end(self) -> None:
        if not self._try(lambda: self._save("complete", self.error_text())):
            raise SessionError(
                f"the reply was not saved ({self.save_problem}); it is still shown, so it "
                "can be copied"
            )

    async def _fit(self, instance: Provider, model: str, history: list[dict[str, str]]) -> list:
        """*history* as it fits *model*'s context (tui/context.py); the screen is told what
        was left out. The session keeps every message. The service is asked for the size
        (Ollama's /api/show, kept by the provider) only when the user set none."""
        from .context import CONTEXT_OPTION, context_size, fit, left_out_notice

        configured = instance.settings.options.get(CONTEXT_OPTION)
        reported = None if configured else await instance.context_window(model)
        size = context_size(model, configured, reported)
        max_tokens = (self.params or {}).get(
            "max_tokens", instance.settings.params.get("max_tokens")
        )
        fitted = fit(history, size, max_tokens)
        self.context_tokens, self.left_out = size, fitted.left_out
        if said := left_out_notice(fitted, model):
            self.on_notice(said)
        return fitted.messages

    def _with_images(self, instance: Provider, model: str, history: list) -> list:
        """Each prompt's image records (Session.history) as the bytes to send (tui/images.py).
        The prompt being sent refuses a model that takes no images, or an image that cannot
        be read as it was attached; an earlier prompt's images are then left out, said once."""
        from .images import ImageError, load, takes_images

        takes = instance.sends_images and takes_images(model, instance.settings.options)
        out, left_out = [], 0
        for n, entry in enumerate(history):
            records = entry.get("images")
            if not records:
                out.append(entry)
                continue
            current = n == len(history) - 1 and self.prompt is not None
            entry = {k: v for k, v in entry.items() if k != "images"}
            if not takes and current:
                raise BadSetting(
                    f"{model or instance.name} takes no images: choose a vision model (F2), "
                    f"or set vision = true in [providers.{instance.name}] if it does take them",
                    provider=instance.name,
                )
            try:
                loaded = [load(r.path, r.sha256, r.name) for r in records] if takes else []
            except ImageError as err:
                if current:
                    raise BadSetting(str(err), provider=instance.name) from None
                loaded = []
            left_out += len(records) - len(loaded)
            out.append({**entry, "images": loaded} if loaded else entry)
        if left_out:
            self.on_notice(f"{left_out} image(s) of earlier prompts not sent to {model}")
        return out

    def _candidates(self) -> list[tuple[str, str]]:
        chosen = [(self.provider, self.model)]
        for name in self.core.config.fallback:
            if name != self.provider:
                chosen.append((name, self.core.provider(name).instance_default_model))
        return chosen

    async def _stream_with_fallback(self, history: list[dict[str, str]]) -> AsyncIterator[str]:
        candidates = self._candidates()
        for position, (name, model) in enumerate(candidates):
            try:
                async for text in self._stream_one(name, model, history):
                    yield text
                return
            except ProviderError as err:
                last = position == len(candidates) - 1
                if self._said or last:
                    raise
                self.failures.append(one_line(str(err), 300))
                self.on_notice(f"{err} — trying {candidates[position + 1][0]}")

    async def _stream_one(
        self, name: str, model: str, history: list[dict[str, str]]
    ) -> AsyncIterator[str]:
        instance = self.core.provider(name)
        history = self._with_images(instance, model, await self._fit(instance, model, history))
        retried = False
        while True:
            cleaner = StreamCleaner() if self.clean else None
            thoughts = StreamCleaner() if self.clean else None  # reasoning's own cleaner
            self._reasoning, self.usage, self.finish = [], None, None  # this attempt's
            said_something = False
            try:
                async for chunk in instance.stream(model, history, params=self.params):
                    if not isinstance(chunk, str):
                        self._part(chunk, thoughts)
                        continue
                    self._think(thoughts.flush() if thoughts else "")  # a held tail first
                    text = cleaner.feed(chunk) if cleaner else chunk
                    if not text:
                        continue
                    if self.first_chunk_at is None:
                        self._answered_by(name, model)
                    said_something = True
                    yield text
                self._think(thoughts.flush() if thoughts else "")
                if cleaner and (tail := cleaner.flush()):
                    if self.first_chunk_at is None:
                        self._answered_by(name, model)
                    said_something = True
                    yield tail
                if not said_something:
                    # A silent empty message reads as a hang or a bug; say it, and let a
                    # fallback provider answer instead.
                    raise EmptyReply("the provider sent an empty reply (no text)", provider=name)
                return
            except RateLimited as err:
                wait = err.retry_after
                if self._said or retried or wait is None or wait > RETRY_AFTER_LIMIT:
                    raise
                retried = True
                await self._countdown(name, wait)

    def _part(self, part: Part, thoughts: StreamCleaner | None) -> None:
        """A part from the provider: kept, and given to on_part (reasoning cleaned)."""
        if isinstance(part, Reasoning):
            self._think(thoughts.feed(part.text) if thoughts else part.text)
            return
        self._think(thoughts.flush() if thoughts else "")  # reasoning held back comes first
        if isinstance(part, Usage):
            self.usage = part
        elif isinstance(part, Finish):
            self.finish = part
        self.on_part(part)

    def _think(self, text: str) -> None:
        if text:
            self._reasoning.append(text)
            self.on_part(Reasoning(text))

    def _answered_by(self, name: str, model: str) -> None:
        self.first_chunk_at = time.monotonic()
        self.reply.provider, self.reply.model = name, model

    async def _countdown(self, name: str, wait: float) -> None:
        remaining = wait
        while remaining > 0:
            self.on_notice(f"{name}: rate limited; retrying in {remaining:.0f} s")
            step = min(1.0, remaining)
            await asyncio.sleep(step)
            remaining -= step
        self.on_notice(f"{name}: retrying now")
