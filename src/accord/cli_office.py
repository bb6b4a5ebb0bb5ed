"""``accord office``: a member's office, on its own machine — its root key, the agreement it
signs, and the keys of its users it certifies and revokes.

The root key never leaves the office folder (a file of mode 0600; keep the folder offline
between uses). Each command that talks to the center sends one act signed by the root,
carried by a user's bearer token (``ACCORD_TOKEN`` or ``--token-file``): the token moves
it, the root's signature makes it. Exit status: 0 done, 1 refused (by the center, or
because what the center shows is not what the office holds), 2 bad input.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from accord.agreement import load_agreement
from accord.cli_common import fail
from accord.cli_fetch import TOKEN_ENV, read_token
from accord.errors import AccordError
from accord.office import Office, act_headers
from accord.record.canonical import encode_base64
from accord.record.registry import ACT, CERTIFY, DEVICE_REPORTS, agreement_digest, fingerprint

if TYPE_CHECKING:
    import httpx

__all__ = ["office_app"]

office_app = typer.Typer(
    help="A member's office: its root key, the agreement it signs, its users' keys.",
    no_args_is_help=True,
)

OfficeOption = Annotated[Path, typer.Option("--office", help="The office folder (root.key).")]
MemberOption = Annotated[str, typer.Option("--member", help="The member the office is.")]
ServerOption = Annotated[
    str, typer.Option("--server", help="The center, e.g. http://127.0.0.1:8000")
]
TokenOption = Annotated[
    Path | None,
    typer.Option("--token-file", help=f"File holding a bearer token (else ${TOKEN_ENV})."),
]


@office_app.command("init")
def office_init(office: OfficeOption, member: MemberOption) -> None:
    """Make the member's root key in a new office folder; print its verifier key, the
    ``root_key`` the agreement names for the member."""
    try:
        key = Office(office, member).init()
    except (AccordError, OSError) as exc:
        raise fail(str(exc)) from None
    typer.echo(key.public.vkey())
    sys.stderr.write(f"root key of {member} written to {office / 'root.key'} (mode 0600)\n")


@office_app.command("user-key")
def office_user_key(office: OfficeOption, member: MemberOption, user: str) -> None:
    """Make (or show) the key of a command-line user, feed or gateway of the member, kept in
    the office folder; print its public key and fingerprint, to certify."""
    try:
        key = Office(office, member).user_key(user, create=True)
    except (AccordError, OSError, ValueError) as exc:
        raise fail(str(exc)) from None
    typer.echo(encode_base64(key.public.raw))
    sys.stderr.write(f"fingerprint {fingerprint(key.public.raw)}\n")


def refused(message: object) -> typer.Exit:
    """:func:`~accord.cli_common.fail` with exit status 1: refused, not bad input."""
    return fail(message, code=1)


ExerciseClockOption = Annotated[
    bool,
    typer.Option(
        "--exercise-clock",
        help="Sign on the center's exercise clock (required when it runs one, as `make run`).",
    ),
]


def _client(server: str, token: str) -> httpx.Client:
    import httpx

    return httpx.Client(base_url=server, headers={"Authorization": f"Bearer {token}"}, timeout=30.0)


def _get(client: httpx.Client, path: str, **params: Any) -> Any:
    answer = client.get(path, params=params or None)
    if answer.status_code != 200:
        raise refused(f"the center answered {answer.status_code} for {path}: {answer.text[:300]}")
    return answer.json()


def _root_act(
    client: httpx.Client,
    office: Office,
    path: str,
    body: dict[str, Any],
    *,
    exercise_clock: bool = False,
) -> dict[str, Any]:
    """Send ``body`` to ``path`` as the root's act; the center's answer. Timed by the
    office's clock — or, on a center playing an exercise on a clock of its own, by that
    clock, only when ``exercise_clock`` says so (else refused, naming the option: an office
    never lets the center set its clock unasked)."""
    from datetime import UTC, datetime

    me = _get(client, "/v1/me")
    if me["member"] != office.member:
        raise refused(f"the token is {me['member']}'s, not {office.member}'s")
    at = datetime.now(UTC)
    if me.get("exercise") is True:
        if not exercise_clock:
            raise fail(
                f"--exercise-clock: the center runs an exercise clock (its time: {me.get('now')})"
                "; give --exercise-clock to sign on it",
                code=2,
            )
        at = datetime.fromisoformat(str(me["now"]))
    try:
        root = office.root()
    except AccordError as exc:
        raise fail(str(exc)) from None
    headers, _ = act_headers(
        root,
        origin=me["origin"],
        member=office.member,
        user=me["name"],
        method="POST",
        path=path,
        body=body,
        at=at,
    )
    answer = client.post(path, json=body, headers=headers)
    if answer.status_code != 201:
        raise refused(f"the center refused: {answer.status_code} {answer.text[:500]}")
    result: dict[str, Any] = answer.json()
    return result


@office_app.command("sign-agreement")
def office_sign_agreement(
    office: OfficeOption,
    member: MemberOption,
    agreement: Annotated[Path, typer.Option("--agreement", help="The agreement the office holds.")],
    server: ServerOption,
    token_file: TokenOption = None,
    exercise_clock: ExerciseClockOption = False,
) -> None:
    """Sign, with the root, the agreement the office holds — only if the record's first entry
    is that same agreement."""
    try:
        ours = agreement_digest(load_agreement(agreement).model_dump(mode="json"))
    except AccordError as exc:
        raise fail(str(exc)) from None
    with _client(server, read_token(token_file)) as client:
        page = _get(client, "/v1/record/entries", start=0, end=1)
        import base64

        entries = page.get("entries") or []
        if not entries:
            raise refused("the center's record is empty: it holds no agreement")
        event = json.loads(base64.b64decode(entries[0]["data"]))["entry"]["event"]
        if event.get("kind") != "agreement.adopted" or event.get("digest") != ours:
            raise refused(
                "the record does not begin with the agreement this office holds: not signed "
                f"(ours {ours}, the record's {event.get('digest')})"
            )
        done = _root_act(
            client, Office(office, member), "/v1/agreement/signatures", {"digest": ours},
            exercise_clock=exercise_clock,
        )  # fmt: skip
    typer.echo(f"signed at entry {done['entry']}; in force: {done['in_force']}")


@office_app.command("certify")
def office_certify(
    office: OfficeOption,
    member: MemberOption,
    user: Annotated[str, typer.Option("--user", help="The user whose key to certify.")],
    server: ServerOption,
    fingerprint_: Annotated[
        str | None,
        typer.Option(
            "--fingerprint",
            help="The fingerprint the user's device shows (read it from the device itself).",
        ),
    ] = None,
    public_key: Annotated[
        str | None,
        typer.Option(
            "--public-key", help="The key itself (standard base64), e.g. from `office user-key`."
        ),
    ] = None,
    certify: Annotated[
        bool, typer.Option("--certify", help="Let the key certify others' keys too.")
    ] = False,
    purpose: Annotated[
        str,
        typer.Option(
            "--purpose",
            help=(
                f"What the key signs: {ACT!r} (the user's acts) or {DEVICE_REPORTS!r} (a "
                "gateway's key: its devices' positions, tracks and drafts, nothing else)."
            ),
        ),
    ] = ACT,
    replaces: Annotated[
        str | None, typer.Option("--replaces", help="The key id this key replaces.")
    ] = None,
    token_file: TokenOption = None,
    exercise_clock: ExerciseClockOption = False,
) -> None:
    """Register a key of ``user``, signed by the root: the key a device offered, found by the
    fingerprint the device shows (compared whole, computed here from the key: never taken
    from the center's listing), or a key given whole (``--public-key``)."""
    if (fingerprint_ is None) == (public_key is None):
        raise fail("give --fingerprint (a device's offered key) or --public-key", code=2)
    if purpose not in (ACT, DEVICE_REPORTS):
        raise fail(f"--purpose: {purpose!r} is neither {ACT!r} nor {DEVICE_REPORTS!r}", code=2)
    if certify and purpose != ACT:
        raise fail(f"--certify: a {purpose} key signs device reports and nothing else", code=2)
    with _client(server, read_token(token_file)) as client:
        if public_key is None:
            wanted = " ".join((fingerprint_ or "").lower().split())
            offers = _get(client, "/v1/keys/offers")["items"]
            found = [
                o["public_key"] for o in offers
                if o["user"] == user and fingerprint(base64_raw(o["public_key"])) == wanted
            ]  # fmt: skip
            if not found:
                raise refused(f"no key of {user!r} with that fingerprint was offered")
            public_key = found[0]
        body: dict[str, Any] = {
            "user": user,
            "public_key": public_key,
            "purposes": [ACT, CERTIFY] if certify else [purpose],
        }
        if replaces:
            body["replaces"] = replaces
        done = _root_act(
            client, Office(office, member), "/v1/keys/registrations", body,
            exercise_clock=exercise_clock,
        )  # fmt: skip
    typer.echo(f"key {done['key']} of {user} registered at entry {done['registered_at']}")


@office_app.command("revoke")
def office_revoke(
    office: OfficeOption,
    member: MemberOption,
    key: Annotated[str, typer.Option("--key", help="The key id to revoke.")],
    server: ServerOption,
    reason: Annotated[str, typer.Option("--reason", help="Why, for the record.")] = "",
    token_file: TokenOption = None,
    exercise_clock: ExerciseClockOption = False,
) -> None:
    """Revoke a key of the member from the next entry on, signed by the root."""
    with _client(server, read_token(token_file)) as client:
        done = _root_act(
            client, Office(office, member), "/v1/keys/revocations", {"key": key, "reason": reason},
            exercise_clock=exercise_clock,
        )  # fmt: skip
    typer.echo(f"key {done['key']} revoked at entry {done['entry']}")


def base64_raw(text: str) -> bytes:
    """The raw bytes of a standard base64 public key (an offer's, as the center lists it)."""
    import base64

    return base64.b64decode(text, validate=True)
