"""Assertions shared by the provider tests."""

from __future__ import annotations

from tui.providers.errors import ProviderError


def assert_readable(err: Exception | None, provider: str, secret: str = "") -> ProviderError:
    """A failure a person can read: one line, names the provider, never quotes the key."""
    assert isinstance(err, ProviderError), err
    assert "\n" not in str(err)
    assert str(err).startswith(f"{provider}: ")
    if secret:
        assert secret not in str(err) and secret not in repr(err)
    return err
