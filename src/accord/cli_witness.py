"""``accord witness``: a party's witness (C2SP tlog-witness v1) — its key, its server and
the evidence it kept.

    accord witness keygen --key FILE --name NAME
    accord witness serve --key FILE --name NAME --logs LOGS [--listen 127.0.0.1:PORT] [--data DIR]
    accord witness evidence --data DIR [--out DIR | --json]

The key file is a PKCS#8 PEM Ed25519 key of mode 0600 (:mod:`accord.record.keys`), refused
when group or others may read or write it; it is never printed or logged, only its verifier
key (signed-note type 0x04, tlog-cosignature). Heavy imports (Starlette, uvicorn) happen
inside the commands.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from accord.cli_common import fail
from accord.errors import AccordError, FormatError
from accord.record.keys import SIG_ED25519_COSIGNATURE, generate, read_private_key
from accord.record.keys import write_private_key as _write_private_key

if TYPE_CHECKING:
    from accord.witness.store import Evidence

__all__ = ["witness_app"]

witness_app = typer.Typer(
    help="A party's witness: cosigns the center's checkpoints (C2SP tlog-witness).",
    no_args_is_help=True,
)

_KEY = Annotated[Path, typer.Option("--key", help="The witness's private key (mode 0600).")]
_NAME = Annotated[
    str, typer.Option("--name", help="The witness's key name, e.g. witness.blue.example/w1.")
]
_DATA = Annotated[Path, typer.Option("--data", help="The witness's state (a private folder).")]


@witness_app.command("keygen")
def keygen(key: _KEY, name: _NAME) -> None:
    """Write a new witness key to FILE (mode 0600, never overwritten); print its vkey."""
    try:
        private = generate(name)
        _write_private_key(key, private)
    except AccordError as error:
        raise fail(error) from None
    sys.stdout.write(f"{private.public.vkey(SIG_ED25519_COSIGNATURE)}\n")


def _listen(text: str) -> tuple[str, int]:
    host, colon, port = text.rpartition(":")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise fail(f"--listen {text!r}: write it as HOST:PORT")
    return host.strip("[]"), int(port)


@witness_app.command("serve")
def serve(
    key: _KEY,
    name: _NAME,
    logs: Annotated[
        Path, typer.Option("--logs", help="The logs to witness, a witness network logs/v0 list.")
    ],
    listen: Annotated[str, typer.Option("--listen", help="HOST:PORT to serve on.")] = (
        "127.0.0.1:7380"
    ),
    data: _DATA = Path("var/witness"),
) -> None:
    """Serve POST /add-checkpoint (and GET /<origin hash>/checkpoint) for the logs in LOGS."""
    import uvicorn

    from accord.record.witness_protocol import parse_log_list
    from accord.witness.server import create_app

    host, port = _listen(listen)
    try:
        private = read_private_key(key, name=name)
        try:
            text = logs.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise fail(f"{logs}: {error}") from None
        try:
            trusted = parse_log_list(text)
        except AccordError as error:
            raise fail(f"{logs}: {error}") from None
        app = create_app(key=private, logs=trusted, data=data)
    except AccordError as error:
        raise fail(error) from None
    sys.stderr.write(
        f"witness {private.public.vkey(SIG_ED25519_COSIGNATURE)}\n"
        f"witnessing {len(trusted)} log(s) on http://{host}:{port}/add-checkpoint; "
        f"state in {data}\n"
    )
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def _split_view(item: Evidence) -> dict[str, Any]:
    """A kept refusal as split-view evidence (accord.record.evidence): the checkpoint the
    witness had cosigned (A) and the one it refused (B), with the consistency proof the log
    sent from A's size in B's tree. Raises ``AccordError`` when the refusal is not one."""
    from accord.record.canonical import decode_base64
    from accord.record.evidence import split_view_evidence

    if item.cosigned_note is None or item.cosigned_size is None:
        raise FormatError("the witness had cosigned nothing of this log: no second history")
    if item.cosigned_size > item.size:
        raise FormatError("the refused checkpoint is smaller than the one cosigned")
    proof = (
        []
        if item.cosigned_size in (0, item.size)
        else [decode_base64(line, what="a proof line", size=32) for line in item.proof.splitlines()]
    )
    return split_view_evidence(item.cosigned_note, item.note, proof).to_json()


@witness_app.command("evidence")
def evidence(
    data: _DATA = Path("var/witness"),
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write each refusal that shows a second history as a split-view evidence "
            "file (witness-<id>.json) in this folder, for accord verify --evidence.",
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print the split-view evidence documents as a JSON list."),
    ] = False,
) -> None:
    """Print every refused checkpoint whose log signature verified, with the reason; with
    --out or --json, as split-view evidence that a third party proves with accord verify
    --evidence."""
    from accord.witness.store import DATABASE, WitnessStore

    if not (data / DATABASE).exists():
        raise fail(f"{data}: no witness state here")
    try:
        store = WitnessStore(data)
    except AccordError as error:
        raise fail(error) from None
    try:
        kept = list(store.evidence())
    finally:
        store.close()
    if out is None and not as_json:
        for item in kept:
            sys.stdout.write(item.text() + "\n\n")
        sys.stdout.write(f"{len(kept)} refused checkpoint(s) kept as evidence\n")
        return
    documents = []
    for item in kept:
        try:
            document = _split_view(item)
        except AccordError as error:
            sys.stderr.write(f"#{item.id} ({item.origin}) is not split-view evidence: {error}\n")
            continue
        if document in documents:  # the same two heads refused twice (a 409, then a 422)
            continue
        documents.append(document)
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            path = out / f"witness-{item.id}.json"
            path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
            sys.stderr.write(f"{path}: {item.origin} sizes {item.cosigned_size} and {item.size}\n")
    if as_json:
        sys.stdout.write(json.dumps(documents, indent=2) + "\n")
