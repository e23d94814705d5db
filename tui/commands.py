"""Command palette: every action and every model, built from the app's current state."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

# (title, help, action on the app) — the palette reaches everything a key does.
ACTIONS: list[tuple[str, str, str]] = [
    ("New conversation", "ctrl+n", "screen_action('new_conversation')"),
    ("Choose model…", "F2", "pick_model"),
    ("Next recent model", "ctrl+t", "screen_action('cycle_model')"),
    ("Stop the reply", "Esc", "screen_action('stop')"),
    ("Regenerate the last reply", "ctrl+r", "screen_action('regenerate')"),
    ("Edit and resend the last prompt", "ctrl+o", "screen_action('edit_last')"),
    ("Copy the last reply", "F6", "screen_action('copy_reply')"),
    ("Copy the last code block", "F7", "screen_action('copy_code')"),
    ("Sessions…", "F3", "open_sessions"),
    ("Providers…", "F4", "open_providers"),
    ("Settings…", "F5", "open_settings"),
    ("Keys", "F1", "show_keys"),
    ("Quit", "ctrl+q", "quit"),
]


class ChattermCommands(Provider):
    """Actions first, then a "Switch to provider/model" command per known model."""

    def _commands(self) -> list[tuple[str, str, object]]:
        app = self.app
        commands: list[tuple[str, str, object]] = [
            (title, f"{help_text}", partial(app.run_action, action))
            for title, help_text, action in ACTIONS
        ]
        for provider, model in app.all_models():  # type: ignore[attr-defined]
            commands.append(
                (
                    f"Switch to {provider}/{model}",
                    "model",
                    partial(app.switch_model, provider, model),  # type: ignore[attr-defined]
                )
            )
        return commands

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands()[: len(ACTIONS)]:
            yield DiscoveryHit(title, callback, help=help_text)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            if (score := matcher.match(title)) > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)  # type: ignore[arg-type]
