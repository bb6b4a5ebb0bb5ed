"""``accord keys``, ``accord record`` and ``accord verify``: the record by hand.

``accord verify LOG --keys KEYS.json`` verifies a log; ``accord verify --evidence FILE --keys
KEYS.json`` proves split-view evidence (:mod:`accord.record.evidence`) instead.

Exit codes: 0 done (or verified), 1 a check failed (the log does not verify, a proof does not
hold), 2 bad input. Private keys are read from files of mode 0600 and never printed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from accord.agreement import load_agreement
from accord.chrono import format_instant, parse_instant
from accord.cli_common import fail
from accord.errors import AccordError
from accord.jsontext import DuplicateKey, NotJsonNumber
from accord.jsontext import loads as strict_loads
from accord.record.canonical import canonical_json
from accord.record.commitments import open_commitment
from accord.record.entries import open_envelope, verify_entry
from accord.record.errors import RecordError
from accord.record.keys import (
    SIG_ED25519,
    SIG_ED25519_COSIGNATURE,
    KeyRing,
    Member,
    PublicKey,
    read_private_key,
    write_key_pair,
)
from accord.record.log import MerkleLog
from accord.record.merkle import (
    ProofError,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from accord.record.note import SignedHead, Witness, verify_checkpoint
from accord.record.recorder import Recorder
from accord.record.verify import VerificationError, read_log, verify_log

__all__ = ["keys_app", "record_app", "verify"]

keys_app = typer.Typer(help="Ed25519 key pairs for parties, notifiers, monitors and the center.")
record_app = typer.Typer(help="The verifiable record, by hand: append, head, prove, export.")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _key(path: Path, name: str | None) -> Any:
    return read_private_key(path, name=name or path.stem)


def _open_log(path: Path, origin: str | None = None, *, create: bool = False) -> MerkleLog:
    if not create and not path.exists():
        raise fail(f"{path}: no such log")
    return MerkleLog.open(path, origin)


@keys_app.command("new")
def keys_new(
    name: Annotated[str, typer.Argument(help="Key name: a party, notifier, monitor or the log.")],
    directory: Annotated[Path, typer.Option("--dir", help="Where to write the files.")] = Path(
        "keys"
    ),
) -> None:
    """Write NAME.key (private, mode 0600) and NAME.pub; print the public key."""
    try:
        private_path, public = write_key_pair(directory, name)
    except AccordError as error:
        raise fail(error) from None
    sys.stdout.write(
        f"{public.vkey(0x04)}\n"
        f"key id {public.key_id}; private key {private_path} (mode 0600), "
        f"public key {private_path.with_suffix('.pub')}\n"
    )


@keys_app.command("ring")
def keys_ring(
    center: Annotated[Path, typer.Option("--center", help="The center's .pub file.")],
    member: Annotated[
        list[str], typer.Option("--member", help="ROLE:FILE.pub (party, notifier, monitor).")
    ],
    out: Annotated[Path, typer.Option("-o", "--out", help="Where to write KEYS.json.")],
) -> None:
    """Assemble KEYS.json, the registered public keys every verifier starts from."""
    try:
        center_key, _ = PublicKey.from_vkey(center.read_text(encoding="utf-8").strip())
        members = []
        for spec in member:
            role, _, file = spec.partition(":")
            if not file:
                raise fail(f"--member {spec!r}: write it as ROLE:FILE.pub")
            key, _ = PublicKey.from_vkey(Path(file).read_text(encoding="utf-8").strip())
            members.append(Member(key, role))
        ring = KeyRing(center_key, members)
    except OSError as exc:
        raise fail(exc) from None
    except AccordError as error:
        raise fail(error) from None
    out.write_text(json.dumps(ring.to_json(), indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(f"{out}: center {center_key.name}, {len(members)} members\n")


@keys_app.command("show")
def keys_show(
    keys: Annotated[Path, typer.Argument(help="KEYS.json (accord keys ring, /v1/keys).")],
    log_list: Annotated[
        bool,
        typer.Option(
            "--log-list",
            help="Print the center's log as a witness network logs/v0 list (accord witness "
            "serve --logs).",
        ),
    ] = False,
    origin: Annotated[
        str | None,
        typer.Option("--origin", help="The log's origin, if not the center's key name."),
    ] = None,
    contact: Annotated[str, typer.Option("--contact", help="For --log-list.")] = "the center",
) -> None:
    """Print every key of KEYS.json as signed-note verifier keys (vkeys): the center's log
    signature (type 0x01) and timestamped line (0x04), each member's cosignature (0x04)."""
    try:
        ring = KeyRing.read(keys)
    except AccordError as error:
        raise fail(error) from None
    center = ring.center
    if log_list:
        # witness-network.org/log-list-format: vkey, origin (when not the key name), qpd,
        # contact; 86400 requests a day is one a second
        lines = ["logs/v0", f"vkey {center.vkey(SIG_ED25519)}"]
        if origin is not None and origin != center.name:
            lines.append(f"origin {origin}")
        lines += ["qpd 86400", f"contact {contact}"]
        sys.stdout.write("\n".join(lines) + "\n")
        return
    out = [
        "# the center's log signature (signed-note type 0x01): what tlog-witness witnesses "
        "and golang.org/x/mod/sumdb/note verify",
        center.vkey(SIG_ED25519),
        "# the center's timestamped line (type 0x04): the head's time, read by accord verify",
        center.vkey(SIG_ED25519_COSIGNATURE),
    ]
    for member in ring.members:
        out.append(f"# {member.role} {member.name}: its cosignature (type 0x04, tlog-cosignature)")
        out.append(member.key.vkey(SIG_ED25519_COSIGNATURE))
    sys.stdout.write("\n".join(out) + "\n")


@record_app.command("append")
def record_append(
    log: Annotated[Path, typer.Argument(help="The log file (SQLite); created with --origin.")],
    key: Annotated[Path, typer.Option("--key", help="The author's private key file.")],
    event: Annotated[str, typer.Option("--event", help="The event: a JSON object.")],
    name: Annotated[
        str | None, typer.Option("--name", help="Author (default: key file stem).")
    ] = None,
    origin: Annotated[str | None, typer.Option("--origin", help="Origin of a new log.")] = None,
    at: Annotated[str | None, typer.Option("--at", help="ISO 8601 time (default: now).")] = None,
) -> None:
    """Sign EVENT with KEY and append it; print the entry's index."""
    try:
        payload = strict_loads(event)
        if not isinstance(payload, dict):
            raise fail("--event must be a JSON object")
        when = parse_instant(at) if at else datetime.now().astimezone()
        author = _key(key, name)
        with _open_log(log, origin, create=origin is not None) as opened:
            index = Recorder(opened).append(payload, key=author, at=when)
    except json.JSONDecodeError as exc:
        raise fail(f"--event is not JSON: {exc.msg}") from None
    except (DuplicateKey, NotJsonNumber) as exc:
        raise fail(f"--event: {exc}") from None
    except ValueError as exc:
        raise fail(exc) from None
    except AccordError as error:
        raise fail(error) from None
    sys.stdout.write(f"{index}\n")


@record_app.command("head")
def record_head(
    log: Annotated[Path, typer.Argument(help="The log file.")],
    key: Annotated[Path, typer.Option("--key", help="The center's private key file.")],
    name: Annotated[
        str | None, typer.Option("--name", help="Key name (default: the origin).")
    ] = None,
    out: Annotated[Path | None, typer.Option("--json", help="Also write HEAD.json here.")] = None,
) -> None:
    """Sign the tree head at the log's current size (the center); print the checkpoint."""
    try:
        with _open_log(log) as opened:
            center = _key(key, name or opened.origin)
            head = Recorder(opened).sign_head(key=center, timestamp=int(time.time()))
    except AccordError as error:
        raise fail(error) from None
    if out is not None:
        out.write_text(json.dumps(head.to_json(), indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(head.note)


@record_app.command("prove")
def record_prove(
    log: Annotated[Path, typer.Argument(help="The log file.")],
    index: Annotated[
        int | None, typer.Option("--index", help="Inclusion proof of entry I.")
    ] = None,
    old_size: Annotated[
        int | None, typer.Option("--from", help="Consistency proof from this older size.")
    ] = None,
    size: Annotated[int | None, typer.Option("--size", help="Tree size (default: all).")] = None,
) -> None:
    """Print an inclusion (--index) or consistency (--from) proof as JSON, checked first."""
    if (index is None) == (old_size is None):
        raise fail("give exactly one of --index and --from")
    try:
        with _open_log(log) as opened:
            n = opened.size if size is None else size
            if not 0 <= n <= opened.size:
                raise fail(f"--size {n} is outside the log's {opened.size} entries")
            root = opened.root(n)
            doc: dict[str, Any] = {"origin": opened.origin, "size": n, "root": _b64(root)}
            if index is not None:
                proof = opened.inclusion_proof(index, n)
                leaf = leaf_hash(opened.entry(index))
                verify_inclusion(leaf_hash=leaf, index=index, tree_size=n, proof=proof, root=root)
                doc.update(index=index, leaf_hash=_b64(leaf))
            else:
                assert old_size is not None
                proof = opened.consistency_proof(old_size, n)
                old_root = opened.root(old_size)
                verify_consistency(
                    old_size=old_size, new_size=n, old_root=old_root, new_root=root, proof=proof
                )
                doc.update(old_size=old_size, old_root=_b64(old_root))
            doc["proof"] = [_b64(p) for p in proof]
    except ProofError as error:
        raise fail(error, 1) from None
    except AccordError as error:
        raise fail(error) from None
    sys.stdout.write(json.dumps(doc, indent=2) + "\n")


@record_app.command("export")
def record_export(
    log: Annotated[Path, typer.Argument(help="The log file.")],
    out: Annotated[Path | None, typer.Option("-o", "--out", help="File (default: stdout).")] = None,
) -> None:
    """Write the log as JSON lines (entries, then the latest signed head)."""
    try:
        with _open_log(log) as opened:
            if out is None:
                opened.export_jsonl(sys.stdout)
            else:
                with out.open("w", encoding="utf-8") as f:
                    opened.export_jsonl(f)
    except AccordError as error:
        raise fail(error) from None


def _openings(data: Any) -> list[dict[str, Any]]:
    """The openings in a file: the answer of ``GET /v1/declarations/{id}/openings`` (its
    entries' ``opening``, skipping entries that carry content in clear), one opening
    (``entry``, ``salt``, ``content``; a check's names its ``party`` too: ``GET
    /v1/messages/{id}/check``), or a list of either."""
    if isinstance(data, list):
        return [o for item in data for o in _openings(item)]
    if isinstance(data, dict) and isinstance(data.get("entries"), list):
        return [e["opening"] for e in data["entries"] if isinstance(e, dict) and e.get("opening")]
    if isinstance(data, dict) and {"entry", "salt", "content"} <= data.keys():
        return [data]
    raise ValueError("no opening: expected an openings answer, an opening or a list of them")


def _summary(opened: Any) -> str:
    if not isinstance(opened, dict):
        return "opened"
    if {"action", "id", "object_kind", "version"} <= opened.keys():
        return (
            f"{opened['action']} {opened['object_kind']} {opened['id']} version {opened['version']}"
        )
    if {"id", "from", "to", "sent_at", "nonce"} <= opened.keys():
        digest = hashlib.sha256(canonical_json(opened)).hexdigest()
        where = "" if opened.get("geometry") is None else f", {opened['geometry'].get('type')}"
        return (
            f"message {opened['id']} from {opened['from']} to {', '.join(opened['to'])} sent "
            f"{opened['sent_at']}: {opened.get('subject')!r}{where}; content hash {digest}"
        )
    if {"action", "created", "draft", "key"} <= opened.keys():
        return f"draft {opened['key']} {opened['action']}"
    if {"check", "id", "party", "warnings"} <= opened.keys():
        texts = [str(w.get("text")) for w in opened["warnings"] if isinstance(w, dict)]
        shown = "; ".join(texts) if texts else "nothing near"
        subject = f"{opened['check']} {opened['id']}"
        return f"the center's check of {subject} showed {opened['party']}: {shown}"
    return "opened"


@record_app.command("open")
def record_open(
    log: Annotated[Path, typer.Argument(help="The log file (SQLite) or its JSON-lines export.")],
    keys: Annotated[Path, typer.Option("--keys", help="KEYS.json: registered public keys.")],
    openings: Annotated[
        Path,
        typer.Option(
            "--openings",
            help="JSON: GET /v1/declarations/{id}/openings, or one opening, or a list.",
        ),
    ],
    author: Annotated[
        str | None, typer.Option("--author", help="Require every entry to be by this member.")
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Processes (default: every core).")] = None,
) -> None:
    """Prove what a commitment in the record holds: verify the whole log as ``accord
    verify`` does, then check each opening against the entry at its index (its salt and
    exact content open that entry's commitment). Exit 0 every opening opens, 1 not, 2 bad
    input."""
    try:
        ring = KeyRing.read(keys)
        given = _openings(strict_loads(openings.read_text(encoding="utf-8")))
        if not given:
            raise ValueError(f"{openings}: no opening to check")
        verify_log(log, keys=ring, workers=workers)
        leaves = read_log(log).leaves
    except VerificationError as error:
        raise fail(f"NOT VERIFIED: {error}", 1) from None
    except (OSError, ValueError) as exc:
        raise fail(exc) from None
    except AccordError as error:
        raise fail(error) from None
    failed = 0
    for opening in given:
        index = opening.get("entry")
        where = f"entry {index}"
        try:
            if type(index) is not int or not 0 <= index < len(leaves):
                raise RecordError(f"the log holds no entry {index!r}")
            entry = verify_entry(open_envelope(leaves[index])[2], keys=ring, log=ring.center.name)
            if author is not None and entry.author != author:
                raise RecordError(f"written by {entry.author!r}, not {author!r}")
            event = entry.event
            party = opening.get("party")
            if party is not None:  # a check's opening: that party's commitment in "checks"
                checks = event.get("checks")
                if not isinstance(checks, dict) or party not in checks:
                    raise RecordError(f"holds no check for {party!r}")
                event = {"commitment": checks[party]}
            content = opening["content"]
            if isinstance(content, dict | list):  # served as JSON: its canonical form
                content = canonical_json(content)
            opened = open_commitment(event, salt=opening["salt"], content=content)
        except (RecordError, KeyError, TypeError) as error:
            failed += 1
            sys.stdout.write(f"{where}: NOT OPENED: {error}\n")
            continue
        stamp = format_instant(entry.ts)
        sys.stdout.write(f"{where} by {entry.author} at {stamp}: {_summary(opened)}\n")
    if failed:
        raise fail(f"{failed} of {len(given)} opening(s) do not open their entry", 1)
    sys.stdout.write(f"OPENED {len(given)} of {len(given)}\n")


def _json_file(path: Path, *, what: str = "a head file") -> Any:
    """The JSON document in ``path``, read strictly (a key twice, ``NaN``: refused); on any
    fault, the exit (2) whose message names the file."""
    try:
        return strict_loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise fail(f"cannot read {path}: {exc.strerror}") from None
    except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, a key twice, NaN
        raise fail(f"{path}: not {what}: {exc}") from None


@record_app.command("cosign")
def record_cosign(
    log: Annotated[Path, typer.Argument(help="The log file.")],
    key: Annotated[Path, typer.Option("--key", help="The co-signing party's private key.")],
    keys: Annotated[Path, typer.Option("--keys", help="KEYS.json: the center's public key.")],
    state: Annotated[
        Path, typer.Option("--state", help="The last head this party signed (JSON; updated).")
    ],
    name: Annotated[str | None, typer.Option("--name", help="Key name (default: stem).")] = None,
) -> None:
    """Co-sign the latest head, only if it extends the last head this party co-signed."""
    try:
        ring = KeyRing.read(keys)
        with _open_log(log) as opened:
            latest = opened.latest_head()
            if latest is None:
                raise fail("the log has no signed head to co-sign")
            last = None
            if state.exists():
                last = SignedHead.from_json(_json_file(state), center=ring.center)
            witness = Witness(
                key=_key(key, name), center=ring.center, origin=opened.origin, last=last
            )
            head = verify_checkpoint(latest.note, origin=opened.origin, center=ring.center)
            proof = (
                []
                if last is None
                else opened.consistency_proof(last.checkpoint.size, head.checkpoint.size)
            )
            note, new_state = witness.cosign(latest.note, proof=proof, timestamp=int(time.time()))
            Recorder(opened).add_cosignature(head, note)
    except AccordError as error:
        raise fail(error, 1 if isinstance(error, RecordError) else 2) from None
    assert new_state.last is not None
    state.write_text(json.dumps(new_state.last.to_json(), indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(note)


def service_causes() -> dict[str, tuple[str, ...]]:
    """Kind → the requests that may cause a party's entry of that kind, as the service
    declares its kinds (:mod:`accord.center.entry_kinds`): what a party act's entry is
    checked against."""
    from accord.center.entry_kinds import Signer, registered

    return {name: kind.acts for name, kind in registered().items() if kind.signer is Signer.MEMBER}


def _cosigners(note: str, keys: list[tuple[str, PublicKey]], center: PublicKey) -> list[str]:
    """What the cosignature lines on ``note`` say, in words: each known key that cosigned it
    (and when), a known key's line that does not verify, and how many lines no known key
    explains."""
    from accord.record.note import parse_note, verify_cosignatures

    said = []
    for label, key in keys:
        try:
            times = verify_cosignatures(note, witnesses=[key])
        except RecordError:
            said.append(f"a line named {key.name} ({label}) that does NOT verify")
            continue
        if key.name in times:
            at = datetime.fromtimestamp(times[key.name], UTC)
            said.append(f"cosigned by {key.name} ({label}) at {format_instant(at)}")
    known = {(center.name, center.note_key_id(t)) for t in (SIG_ED25519, SIG_ED25519_COSIGNATURE)}
    known |= {(key.name, key.note_key_id(SIG_ED25519_COSIGNATURE)) for _, key in keys}
    others = [s for s in parse_note(note).signatures if (s.name, s.key_id) not in known]
    if not said:
        said.append("cosigned by none of the keys known here")
    if others:
        names = ", ".join(sorted({s.name for s in others}))
        said.append(f"{len(others)} line(s) by keys not known here ({names}), not checked")
    return said


def verify_evidence(evidence: Path, ring: KeyRing, agreement: Path | None) -> None:
    """``accord verify --evidence``: prove split-view evidence (accord.record.evidence) with
    the center's key; print what is proven; exit 0 proven, 1 not, 2 bad input."""
    from accord.errors import NoSplitView
    from accord.record.evidence import SplitViewEvidence, prove_split_view

    document = _json_file(evidence, what="an evidence file")
    keys: list[tuple[str, PublicKey]] = [(m.role, m.key) for m in ring.members]
    if agreement is not None:
        witnesses = load_agreement(agreement).witnesses
        keys += [(f"{party}'s witness", ref.key) for party, ref in witnesses.items()]
    try:
        parsed = SplitViewEvidence.from_json(document)
    except AccordError as error:
        raise fail(f"{evidence}: {error}") from None
    try:
        prove_split_view(parsed, center=ring.center)
        old_root = parsed.b_root_at_a()
    except NoSplitView as error:
        raise fail(f"NOT PROVEN: {error}", 1) from None
    except RecordError as error:
        raise fail(f"NOT PROVEN: the evidence does not hold: {error}", 1) from None
    a, b = parsed.a, parsed.b
    lines = [
        f"the center {ring.center.name} signed two histories of the log {parsed.origin}:",
        f"  head A: size {a.size}, root {_b64(a.root)}",
    ]
    lines += [f"    {said}" for said in _cosigners(parsed.heads[0], keys, ring.center)]
    if a.size == b.size:
        lines.append(f"  head B: size {b.size}, root {_b64(b.root)}: the same size, another root")
    else:
        lines += [
            f"  head B: size {b.size}, root {_b64(b.root)}, whose tree at size {a.size} has "
            f"root {_b64(old_root)}",
            f"    (its consistency proof of {len(parsed.consistency)} hash(es) leads to head "
            "B's root and to that one)",
        ]
    lines += [f"    {said}" for said in _cosigners(parsed.heads[1], keys, ring.center)]
    lines.append("no append-only log has both heads: a split view")
    for line in lines:
        sys.stdout.write(line + "\n")
    sys.stdout.write("SPLIT VIEW PROVEN\n")


def verify(
    keys: Annotated[Path, typer.Option("--keys", help="KEYS.json: registered public keys.")],
    log: Annotated[
        Path | None,
        typer.Argument(help="The log file (SQLite) or its JSON-lines export."),
    ] = None,
    trusted_head: Annotated[
        Path | None, typer.Option("--trusted-head", help="An older HEAD.json you trust.")
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Processes (default: every core).")] = None,
    agreement: Annotated[
        Path | None,
        typer.Option(
            "--agreement",
            help="Your own copy of the agreement (YAML): the log must adopt exactly it, and "
            "its parties' roots; with --evidence, its witnesses' keys name the cosignatures.",
        ),
    ] = None,
    evidence: Annotated[
        Path | None,
        typer.Option(
            "--evidence",
            help="Prove split-view evidence (JSON, from accord monitor or accord witness "
            "evidence --out) instead of verifying a log.",
        ),
    ] = None,
) -> None:
    """Check every signature, rebuild the tree, check the signed heads and, given an older
    trusted head, that the log only grew. In a log whose agreement names the parties' roots,
    check every party's act against the keys its root certified (pin the agreement with
    --agreement, or its roots are taken from the log itself). With --evidence FILE instead
    of a log: prove that the center signed two histories (a split view) from the two signed
    heads in FILE and the center's key. Exit 0 verified (proven), 1 not, 2 bad input."""
    if (log is None) == (evidence is None):
        raise fail("give a log to verify, or --evidence FILE to prove, not both")
    try:
        ring = KeyRing.read(keys)
        if evidence is not None:
            if trusted_head is not None or workers is not None:
                raise fail("--evidence takes --keys and --agreement only")
            verify_evidence(evidence, ring, agreement)
            return
        assert log is not None
        trusted = None
        if trusted_head is not None:
            trusted = SignedHead.from_json(_json_file(trusted_head), center=ring.center)
        document = None
        if agreement is not None:
            document = load_agreement(agreement).model_dump(mode="json")
        report = verify_log(
            log,
            keys=ring,
            trusted_head=trusted,
            workers=workers,
            agreement=document,
            causes=service_causes(),
        )
    except VerificationError as error:
        raise fail(f"NOT VERIFIED: {error}", 1) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise fail(exc) from None
    except AccordError as error:
        raise fail(error) from None
    for line in report.lines():
        sys.stdout.write(line + "\n")
    sys.stdout.write("VERIFIED\n")
