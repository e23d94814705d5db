"""base_url as users write it: a password in it never shows, and a private CA can be trusted."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.servers import OpenAIServer, drain, free_port, self_signed_tls
from tui.providers import base
from tui.providers.base import Provider


@pytest.fixture
def fresh_tls_context() -> Iterator[None]:
    """The TLS context is cached per process; build it again under this test's environment."""
    base._tls_context.cache_clear()
    yield
    base._tls_context.cache_clear()


async def test_password_in_base_url_is_masked_in_errors(
    make_provider: Callable[..., Provider],
) -> None:
    url = f"http://alice:pw-SECRET-42@127.0.0.1:{free_port()}/v1"
    provider = make_provider("openai", base_url=url, api_key="sk-x")
    drained = await drain(provider, [{"role": "user", "content": "hi"}])
    message = str(drained.error)
    assert "cannot reach" in message
    assert "pw-SECRET-42" not in message
    assert "alice:•••@127.0.0.1" in message


async def test_private_ca_in_ssl_cert_file_is_trusted(
    tmp_path: Path,
    make_provider: Callable[..., Provider],
    monkeypatch: pytest.MonkeyPatch,
    fresh_tls_context: None,
) -> None:
    tls = self_signed_tls(tmp_path)
    if tls is None:
        pytest.skip("the openssl command is needed to make a certificate")
    with OpenAIServer(reply="over TLS", tls=tls) as server:
        url = server.base_url.replace("http://", "https://")
        untrusted = await drain(make_provider("openai", base_url=url, api_key="k"), _hi())
        assert "not trusted" in str(untrusted.error)
        assert "SSL_CERT_FILE" in str(untrusted.error)

        base._tls_context.cache_clear()
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "cert.pem"))
        trusted = await drain(make_provider("openai", base_url=url, api_key="k"), _hi())
        assert trusted.error is None
        assert trusted.text == "over TLS"


def _hi() -> list[dict[str, str]]:
    return [{"role": "user", "content": "hi"}]
