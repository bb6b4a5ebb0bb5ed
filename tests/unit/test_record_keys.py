"""Ed25519 keys: identifiers from their definitions, key files that stay private."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import pickle
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from accord.record.errors import (
    FormatError,
    KeyFileError,
    SignatureError,
    UnknownKeyError,
)
from accord.record.keys import (
    KeyRing,
    Member,
    PrivateKey,
    PublicKey,
    check_key_name,
    generate,
    read_private_key,
    write_key_pair,
    write_private_key,
)
from support.record import seeded

# --- identifiers ----------------------------------------------------------------------------


def test_rfc8032_test_1():
    # RFC 8032 §7.1, TEST 1: the empty message.
    secret = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    public = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    signature = bytes.fromhex(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac"
        "c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )
    key = PrivateKey.from_seed("rfc8032", secret)
    assert key.public.raw == public
    assert key.sign(b"") == signature
    PublicKey("rfc8032", public).verify(signature, b"")


def test_key_id_is_sha256_prefix_of_the_raw_key():
    key = seeded("blue").public
    assert key.key_id == hashlib.sha256(key.raw).hexdigest()[:16]
    assert len(key.key_id) == 16


@pytest.mark.parametrize("sig_type", [0x01, 0x04])
def test_note_key_id_follows_signed_note(sig_type):
    key = seeded("blue").public
    expected = hashlib.sha256(b"blue" + b"\x0a" + bytes([sig_type]) + key.raw).digest()[:4]
    assert key.note_key_id(sig_type) == expected


def test_note_key_ids_differ_by_type_and_name():
    blue = seeded("blue")
    assert blue.public.note_key_id(0x01) != blue.public.note_key_id(0x04)
    renamed = PrivateKey.from_seed("bleu", hashlib.sha256(b"blue").digest())
    assert renamed.public.raw == blue.public.raw
    assert renamed.public.note_key_id(0x04) != blue.public.note_key_id(0x04)


@pytest.mark.parametrize("sig_type", [0x01, 0x04])
def test_vkey_form_and_round_trip(sig_type):
    key = seeded("blue").public
    vkey = key.vkey(sig_type)
    name, hex_id, b64 = vkey.split("+", 2)
    assert name == "blue"
    assert bytes.fromhex(hex_id) == key.note_key_id(sig_type)
    assert base64.b64decode(b64) == bytes([sig_type]) + key.raw
    assert PublicKey.from_vkey(vkey) == (key, sig_type)


def test_vkey_with_a_wrong_key_id_is_refused():
    key = seeded("blue").public
    name, _, b64 = key.vkey().split("+", 2)
    with pytest.raises(FormatError, match="does not match"):
        PublicKey.from_vkey(f"{name}+00000000+{b64}")
    with pytest.raises(FormatError):
        PublicKey.from_vkey(f"red+{key.note_key_id(1).hex()}+{b64}")


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\nb", "a\tb", "a\u00a0b", "a\x7f", 7])
def test_key_names_follow_signed_note(name):
    with pytest.raises(FormatError):
        check_key_name(name)


@pytest.mark.parametrize("raw", [b"", bytes(31), bytes(33), "x" * 32])
def test_public_key_must_be_32_bytes(raw):
    with pytest.raises(FormatError):
        PublicKey("blue", raw)


def test_public_key_json_and_pickle_round_trip():
    key = seeded("blue").public
    assert key.to_json() == {"name": "blue", "public_key": base64.b64encode(key.raw).decode()}
    assert PublicKey.from_json(key.to_json()) == key
    again = pickle.loads(pickle.dumps(key))
    assert again == key
    again.verify(seeded("blue").sign(b"m"), b"m")


# --- signing --------------------------------------------------------------------------------


def test_sign_and_verify():
    blue = seeded("blue")
    signature = blue.sign(b"message")
    assert len(signature) == 64
    blue.public.verify(signature, b"message")


def test_wrong_message_or_key_is_refused():
    blue, red = seeded("blue"), seeded("red")
    signature = blue.sign(b"message")
    with pytest.raises(SignatureError, match="'red'"):
        red.public.verify(signature, b"message")
    with pytest.raises(SignatureError):
        blue.public.verify(signature, b"messagE")
    with pytest.raises(SignatureError):
        blue.public.verify(signature[:-1] + bytes([signature[-1] ^ 1]), b"message")


def test_generate_gives_distinct_keys():
    assert generate("a").public.raw != generate("a").public.raw


def test_private_key_repr_reveals_no_key_material():
    seed = os.urandom(32)
    key = PrivateKey.from_seed("blue", seed)
    pem = key._pem()
    body = b"".join(pem.splitlines()[1:-1]).decode()
    for shown in (repr(key), str(key), f"{key!r}", repr([key])):
        assert "blue" in shown
        assert key.key_id in shown
        for secret in (
            seed.hex(),
            seed.hex().upper(),
            base64.b64encode(seed).decode(),
            base64.urlsafe_b64encode(seed).decode().rstrip("="),
            repr(seed),
            body,
        ):
            assert secret not in shown


def test_private_key_is_not_pickled_or_copied():
    key = seeded("blue")
    with pytest.raises(TypeError):
        pickle.dumps(key)
    with pytest.raises(TypeError):
        copy.copy(key)
    with pytest.raises(TypeError):
        copy.deepcopy({"k": key})


# --- key files ------------------------------------------------------------------------------


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077])
def test_private_key_file_is_0600(tmp_path, umask):
    path = tmp_path / "blue.key"
    old = os.umask(umask)
    try:
        write_private_key(path, seeded("blue"))
    finally:
        os.umask(old)
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert read_private_key(path, name="blue").public == seeded("blue").public


def test_private_key_file_is_not_overwritten_unless_asked(tmp_path):
    path = tmp_path / "blue.key"
    write_private_key(path, seeded("blue"))
    with pytest.raises(KeyFileError, match="exists"):
        write_private_key(path, seeded("red"))
    assert read_private_key(path, name="blue").public == seeded("blue").public
    os.chmod(path, 0o644)
    write_private_key(path, seeded("red"), overwrite=True)
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert read_private_key(path, name="red").public == seeded("red").public
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blue.key"]


def test_private_key_file_does_not_follow_a_symlink(tmp_path):
    target = tmp_path / "elsewhere"
    (tmp_path / "blue.key").symlink_to(target)
    with pytest.raises(KeyFileError):
        write_private_key(tmp_path / "blue.key", seeded("blue"))
    assert not target.exists()


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o606])
def test_reading_a_key_others_may_access_is_refused(tmp_path, mode):
    path = tmp_path / "blue.key"
    write_private_key(path, seeded("blue"))
    os.chmod(path, mode)
    with pytest.raises(KeyFileError) as info:
        read_private_key(path, name="blue")
    message = str(info.value)
    assert f"unsafe permissions {mode:04o}" in message
    assert "chmod 600" in message
    assert "PRIVATE KEY" not in message


def test_reading_a_key_owner_only_modes_are_accepted(tmp_path):
    path = tmp_path / "blue.key"
    write_private_key(path, seeded("blue"))
    os.chmod(path, 0o400)
    assert read_private_key(path, name="blue").name == "blue"


def _write_0600(path, data: bytes) -> None:
    path.write_bytes(data)
    os.chmod(path, 0o600)


def test_unreadable_key_files_are_refused_without_their_content(tmp_path):
    secret_looking = b"-----BEGIN PRIVATE KEY-----\nc2VjcmV0c2VjcmV0\n-----END PRIVATE KEY-----\n"
    _write_0600(tmp_path / "bad.key", secret_looking)
    with pytest.raises(KeyFileError) as info:
        read_private_key(tmp_path / "bad.key", name="blue")
    assert "c2VjcmV0" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__

    encrypted = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pass"),
    )
    _write_0600(tmp_path / "enc.key", encrypted)
    with pytest.raises(KeyFileError, match="encrypted"):
        read_private_key(tmp_path / "enc.key", name="blue")

    other = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_0600(tmp_path / "ec.key", other)
    with pytest.raises(KeyFileError, match="not Ed25519"):
        read_private_key(tmp_path / "ec.key", name="blue")

    with pytest.raises(KeyFileError, match="no key file"):
        read_private_key(tmp_path / "missing.key", name="blue")
    (tmp_path / "dir.key").mkdir(mode=0o700)
    with pytest.raises(KeyFileError):
        read_private_key(tmp_path / "dir.key", name="blue")


def test_write_key_pair(tmp_path):
    path, public = write_key_pair(tmp_path / "keys", "blue")
    assert path == tmp_path / "keys" / "blue.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert read_private_key(path, name="blue").public == public
    line = (tmp_path / "keys" / "blue.pub").read_text()
    assert line.endswith("\n") and line.count("\n") == 1
    assert PublicKey.from_vkey(line) == (public, 0x04)
    with pytest.raises(KeyFileError, match="exists"):
        write_key_pair(tmp_path / "keys", "blue")
    assert read_private_key(path, name="blue").public == public


@pytest.mark.parametrize("name", ["../blue", "a/b", ".hidden", "-x"])
def test_write_key_pair_refuses_names_that_are_not_file_names(tmp_path, name):
    with pytest.raises(FormatError):
        write_key_pair(tmp_path, name)
    assert list(tmp_path.iterdir()) == []


# --- the key ring ---------------------------------------------------------------------------


def ring_json() -> dict[str, object]:
    return {
        "center": seeded("center").public.to_json(),
        "members": [
            {
                "name": "blue",
                "role": "party",
                "public_key": seeded("blue").public.to_json()["public_key"],
            },
            {
                "name": "red",
                "role": "party",
                "public_key": seeded("red").public.to_json()["public_key"],
            },
            {
                "name": "un",
                "role": "notifier",
                "public_key": seeded("un").public.to_json()["public_key"],
            },
        ],
    }


def test_key_ring_round_trip_and_lookup():
    ring = KeyRing.from_json(ring_json())
    assert ring.to_json() == ring_json()
    assert sorted(ring) == ["blue", "center", "red", "un"]
    assert ring["blue"] == seeded("blue").public
    assert ring.member("center") == ring.center == seeded("center").public
    assert ring.role("un") == "notifier"
    assert ring.role("center") == "center"
    assert ring.name_of_key_id(seeded("red").public.key_id) == "red"
    assert ring.name_of_key_id("0" * 16) is None
    assert "green" not in ring
    assert ring.get("green") is None
    assert pickle.loads(pickle.dumps(ring)) == ring


def test_unknown_member_is_a_record_error_and_a_key_error():
    ring = KeyRing.from_json(ring_json())
    with pytest.raises(UnknownKeyError, match="no key named 'green'") as info:
        ring.member("green")
    assert isinstance(info.value, KeyError)
    assert str(info.value) == "no key named 'green' in the key ring"
    with pytest.raises(KeyError):
        ring["green"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["members"].append(dict(d["members"][0])), "twice"),
        (lambda d: d["members"][1].update(public_key=d["members"][0]["public_key"]), "same key"),
        (lambda d: d["members"][0].update(role="admin"), r"members\[0\]\.role"),
        (lambda d: d["members"][2].pop("public_key"), r"members\[2\] lacks public_key"),
        (lambda d: d["members"][1].update(public_key="AAAA"), r"members\[1\]\.public_key"),
        (lambda d: d["members"][1].update(extra=1), "unknown field"),
        (lambda d: d["members"][0].update(name="bl ue"), r"members\[0\]\.name"),
        (lambda d: d["members"][0].update(name="center"), "twice"),
        (lambda d: d.update(members={}), "list"),
        (lambda d: d.pop("center"), "lacks center"),
    ],
)
def test_key_ring_refusals(edit, message):
    data = json.loads(json.dumps(ring_json()))
    edit(data)
    with pytest.raises(FormatError, match=message):
        KeyRing.from_json(data)


def test_key_ring_file(tmp_path):
    path = tmp_path / "KEYS.json"
    path.write_text(json.dumps(ring_json()))
    assert KeyRing.read(path) == KeyRing.from_json(ring_json())
    text = json.dumps(ring_json())
    path.write_text(text[:-1] + ', "center": ' + json.dumps(seeded("red").public.to_json()) + "}")
    with pytest.raises(KeyFileError, match="'center' appears twice"):
        KeyRing.read(path)
    path.write_text("{")
    with pytest.raises(KeyFileError, match="not JSON"):
        KeyRing.read(path)
    with pytest.raises(KeyFileError):
        KeyRing.read(tmp_path / "missing.json")


def test_key_ring_constructor_refuses_bad_roles():
    with pytest.raises(FormatError, match="role"):
        KeyRing(seeded("center").public, [Member(seeded("blue").public, "center")])
