"""The first message on the plain (loopback, lab-only) TAK port: the caller's token.

A plain connection carries no certificate, so before anything else it sends the message TAK
clients already send to a TAK Server input with ``auth="file"`` — ATAK and WinTAK send it
when the connection has a user name and password, pytak and most gateways can::

    <?xml version="1.0"?>
    <auth><cot username="carol" password="TOKEN" uid="ANDROID-1234"/></auth>

``password`` is the user's Accord bearer token (``accord users add``), ``username`` their
name (the listener refuses a token of another user), ``uid`` the device's (optional) and
``callsign`` (optional) is read and kept. As in TAK Server, the message must come first and
end (``</auth>``) within :data:`MAX_AUTH_BYTES`; anything else closes the connection.
Unlike TAK Server, the bytes after ``</auth>`` are kept (a client may send its first event
in the same write).

Parsed strictly, and safely: no DTD, no entity but XML's five and character references,
no comment or processing instruction but the XML declaration, nothing but the ``auth``
element holding one ``cot`` element; every refusal names the field.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from accord.errors import InputError, Issue

__all__ = ["AUTH_END", "MAX_AUTH_BYTES", "PlainAuth", "parse_auth", "split_auth"]

MAX_AUTH_BYTES = 1024
"""The ``<auth>`` message's most bytes, declaration included (TAK Server's own bound)."""

AUTH_END = b"</auth>"
_DECLARATION = re.compile(rb"<\?xml[ \t\r\n][^<>?]*\?>")
_FIELDS = {"username": 64, "password": 256, "uid": 128, "callsign": 64}
_REQUIRED = ("username", "password")


@dataclass(frozen=True, slots=True)
class PlainAuth:
    """Who a plain connection says it is: the user's name and token, the device's uid and
    callsign when given."""

    username: str
    token: str
    uid: str | None = None
    callsign: str | None = None

    def __repr__(self) -> str:  # a token never reaches a log line through repr
        return f"PlainAuth(username={self.username!r}, uid={self.uid!r})"


def _bad(field: str, message: str) -> InputError:
    return InputError("auth", [Issue(field, message)])


def split_auth(buffer: bytes) -> tuple[PlainAuth, bytes] | None:
    """The ``<auth>`` message at the start of ``buffer`` and the bytes after it; ``None``
    while it may still be arriving. Refuses (:class:`~accord.errors.InputError`) a buffer
    that cannot begin one, or :data:`MAX_AUTH_BYTES` without its end."""
    start = buffer.lstrip()[:5]
    if start and not any(opening.startswith(start) for opening in (b"<?xml", b"<auth")):
        message = "a plain connection sends <auth><cot username=… password=…/></auth> first"
        raise _bad("auth", message)
    end = buffer.find(AUTH_END)
    if end < 0:
        if len(buffer) >= MAX_AUTH_BYTES:
            raise _bad("auth", f"no </auth> within {MAX_AUTH_BYTES} bytes")
        return None
    end += len(AUTH_END)
    if end > MAX_AUTH_BYTES:
        raise _bad("auth", f"no </auth> within {MAX_AUTH_BYTES} bytes")
    return parse_auth(buffer[:end]), buffer[end:]


def parse_auth(message: bytes) -> PlainAuth:
    """The ``<auth>`` message ``message`` (whole, at most :data:`MAX_AUTH_BYTES`), checked
    as the module says; :class:`~accord.errors.InputError` naming the field at fault."""
    if len(message) > MAX_AUTH_BYTES:
        raise _bad("auth", f"{len(message)} bytes: at most {MAX_AUTH_BYTES}")
    body = message.strip()
    declaration = _DECLARATION.match(body)
    if declaration is not None:
        body = body[declaration.end() :].lstrip()
    if b"<!" in body or b"<?" in body:
        raise _bad("auth", "no DTD, entity declaration, comment, CDATA or processing instruction")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as error:
        raise _bad("auth", f"not well-formed XML ({error})") from None
    if root.tag != "auth" or root.attrib:
        raise _bad("auth", "the message is one <auth> element, without attributes")
    if (root.text or "").strip() or len(root) != 1:
        raise _bad("auth", "<auth> holds one <cot/> element and nothing else")
    cot = root[0]
    if cot.tag != "cot" or len(cot) or (cot.text or "").strip() or (cot.tail or "").strip():
        raise _bad("auth.cot", "an empty <cot/> element carrying attributes only")
    for name in cot.attrib:
        if name not in _FIELDS:
            known = ", ".join(_FIELDS)
            raise _bad(f"auth.cot.{name[:32]}", f"not an attribute of <cot> ({known})")
    values: dict[str, str | None] = {}
    for name, most in _FIELDS.items():
        value = cot.attrib.get(name)
        if value is None:
            if name in _REQUIRED:
                raise _bad(f"auth.cot.{name}", "missing")
        elif not 1 <= len(value) <= most or not value.isprintable():
            raise _bad(f"auth.cot.{name}", f"1 to {most} printable characters")
        values[name] = value
    username, token = values["username"], values["password"]
    assert username is not None and token is not None
    return PlainAuth(username, token, values["uid"], values["callsign"])
