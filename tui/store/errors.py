"""What the store raises: SessionError and its kinds, for callers; Invalid and Newer, which
the readers raise and the store turns into SessionCorrupt and SessionUnsupported."""

from __future__ import annotations


class SessionError(Exception):
    """A conversation could not be read or written; the message names the file."""


class SessionNotFound(SessionError):
    pass


class SessionCorrupt(SessionError):
    """The file did not parse and was moved aside; the message says where."""


class SessionAmbiguous(SessionNotFound):
    """An id prefix that more than one conversation starts with; the message lists them."""


class SessionUnsupported(SessionError):
    """Written by a newer chatterm (higher schema): left in place and never rewritten."""


class Invalid(Exception):
    """Why a file is not a usable session (becomes SessionCorrupt)."""


class Newer(Exception):
    """Written with a schema this chatterm does not know (becomes SessionUnsupported)."""

    def __init__(self, schema: int) -> None:
        super().__init__(f"schema {schema}")
        self.schema = schema
