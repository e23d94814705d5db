"""Images for vision models: what an image is, which models take one, and its bytes as sent.
No Textual, no httpx.

An attached PNG, JPEG, WebP or GIF is recorded like any attachment (path, size, sha256;
never its bytes in the session file) and read again when it is sent, as base64 for the
provider to put in its own shape (OpenAI ``image_url`` data URL, Ollama ``images``,
Anthropic base64 ``image`` blocks, Gemini ``inlineData`` parts). Only models that take
images get one: a built-in table of well-known vision models, or ``vision = true`` /
``vision_models = [...]`` in ``[providers.NAME]``; others refuse with the reason before
anything is sent.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

IMAGE_LIMIT = 5 * 1024 * 1024  # bytes: most services refuse more (OpenAI 20 MB, Anthropic 5)
VISION_OPTION, VISION_MODELS_OPTION = "vision", "vision_models"
# Well-known models that take images, by the start of the name (as tui/context.py does).
VISION_PREFIXES = (
    "gpt-4o", "gpt-4.1", "gpt-5", "o3", "o4-mini", "claude", "gemini", "llava",
    "llama3.2-vision", "llama4", "qwen2.5vl", "qwen2.5-vl", "qwen3-vl", "gemma3",
    "minicpm-v", "moondream", "pixtral", "mistral-small3.1",
)  # fmt: skip


class ImageError(Exception):
    """An image cannot be sent; the message says why, in a user's words."""


def sniff(raw: bytes) -> str | None:
    """The image's MIME type from its first bytes, or None when it is none of the four."""
    if raw.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if raw.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if raw.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if raw[:4] == b"RIFF" and raw[8:12] == b"WEBP":
        return "image/webp"
    return None


def takes_images(model: str, options: Mapping[str, Any]) -> bool:
    """Does *model* take images: the provider's setting, else the table."""
    listed = options.get(VISION_MODELS_OPTION)
    if isinstance(listed, list) and model in listed:
        return True
    setting = options.get(VISION_OPTION)
    if isinstance(setting, bool):
        return setting
    name = model.lower().rpartition("/")[2]
    return name.startswith(VISION_PREFIXES)


def load(path: str, sha256: str, name: str) -> dict[str, str]:
    """The image at *path* as sent: {"mime", "data" (base64)}; ImageError when it is gone,
    changed since it was attached, or no longer an image."""
    try:
        raw = Path(path).read_bytes()
    except OSError as err:
        raise ImageError(f"the image {name} cannot be read again ({err.strerror or err})") from None
    if sha256 and hashlib.sha256(raw).hexdigest() != sha256:
        raise ImageError(f"the image {name} changed since it was attached: attach it again")
    mime = sniff(raw)
    if mime is None:
        raise ImageError(f"{name} is no longer an image")
    return {"mime": mime, "data": base64.b64encode(raw).decode("ascii")}


def data_url(image: Mapping[str, str]) -> str:
    return f"data:{image['mime']};base64,{image['data']}"
