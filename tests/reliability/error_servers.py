"""Loopback servers for the error-message tests: what real proxies and TLS servers answer.

- ``AuthProxy``: a forward proxy that wants ``Proxy-Authorization: Basic user:password`` and
  answers 407 with ``Proxy-Authenticate`` otherwise, to absolute-form ``http://`` requests
  and to ``CONNECT`` alike (as squid and mitmproxy do).
- ``TLSOnlyServer``: an OpenAI server that speaks TLS only, so a plain-HTTP request to its
  port fails the handshake and is closed, as a uvicorn (LiteLLM) started with a certificate
  does.
- ``private_ca(dir)``: a private CA and a server context whose certificate for 127.0.0.1 it
  signed (None without the openssl command).
- ``answer(status, body, headers)``: the exact bytes of one JSON answer, for ``server.script``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
import socket
import ssl
import subprocess
from pathlib import Path
from typing import Any

from tests.servers import Exchange, ForwardProxy, OpenAIServer, Raw


def answer(status: int, body: Any, headers: dict[str, str] | None = None) -> Raw:
    """One whole JSON answer (then close), byte for byte."""
    data = json.dumps(body).encode()
    lines = [f"HTTP/1.1 {status} Error", "Content-Type: application/json"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    lines.append(f"Content-Length: {len(data)}")
    return Raw(("\r\n".join(lines) + "\r\n\r\n").encode() + data)


class AuthProxy(ForwardProxy):
    """A forward proxy that refuses, with 407, any request without its credentials."""

    kind = "auth-proxy"

    def __init__(self, *, user: str = "alice", password: str = "proxy-PW-0001", **kwargs: Any):
        super().__init__(**kwargs)
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.expected = f"Basic {token}"

    def handle(self, ex: Exchange) -> None:
        if ex.request.headers.get("proxy-authorization") != self.expected:
            self.request_lines.append(ex.request.request_line)
            page = b"<html><head><title>407 Proxy Authentication Required</title></head></html>"
            headers = [("Content-Type", "text/html"), ("Proxy-Authenticate", 'Basic realm="corp"')]
            ex.head(407, headers, length=len(page))
            ex.send(page)
            return
        super().handle(ex)


class TLSOnlyServer(OpenAIServer):
    """Every connection must start with a TLS handshake; plain HTTP is dropped unanswered."""

    def _maybe_tls(self, sock: socket.socket) -> socket.socket:
        assert self.tls is not None
        # Wrapping detaches *sock*: track the wrapped one before the handshake blocks, so
        # that close() can cut a handshake a client left half done.
        wrapped = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        with self._lock:
            self._socks.discard(sock)
            self._socks.add(wrapped)
        try:
            wrapped.do_handshake()
        except OSError:
            with contextlib.suppress(OSError):
                wrapped.close()
            raise
        return wrapped


def private_ca(directory: Path) -> tuple[Path, ssl.SSLContext] | None:
    """(the CA's certificate file, a server context for 127.0.0.1 signed by that CA)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    ca_key, ca_cert = directory / "ca-key.pem", directory / "ca.pem"
    key, csr, cert = directory / "key.pem", directory / "server.csr", directory / "server.pem"
    ext = directory / "server.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n", "utf-8")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    ca_name = ["-subj", "/CN=chatterm test private CA"]
    signed = ["-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext]
    steps = [
        [openssl, "req", "-x509", *ec, "-keyout", ca_key, "-out", ca_cert, "-days", "2", *ca_name],
        [openssl, "req", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"],
        [openssl, "x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, *signed],
    ]
    for step in steps:
        subprocess.run([str(part) for part in step], check=True, capture_output=True, timeout=30)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return ca_cert, context
