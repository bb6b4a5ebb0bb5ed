"""A restore never puts back a record shorter than one the parties' witnesses cosigned
(DECISIONS 14): ``accord db restore`` asks each witness the agreement names, with real
witnesses (``accord witness serve``'s application, in threads) and the center's own keys,
and takes what an older backup lacks from a monitor's copy that reaches the cosigned head."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.agreement import load_agreement
from accord.center.app import create_app
from accord.center.backup import backup, restore
from accord.center.bootstrap import Parts
from accord.center.demo_witnesses import make_witnesses, serving, with_witnesses
from accord.center.record.heads import latest_head
from accord.center.runtime import Center
from accord.center.writer_process import Loopback
from accord.errors import BackupError
from support.declarations import POSITION
from support.jig import AGREEMENT_TEXT
from support.redo import monitor_copy
from support.service import TestClient, add_users, clock, settings_for
from support.witnessing import ask, fill

T_WITNESS = 1_790_000_000


def declare(client: TestClient, tokens: dict[str, str], lon: float) -> None:
    """Blue's officer declares a shared position at ``lon``: one entry."""
    feature = {**POSITION, "geometry": {"type": "Point", "coordinates": [lon, 25.0]}}
    answer = client.post(
        "/v1/declarations", json=feature,
        headers={"Authorization": f"Bearer {tokens['blue-officer']}"},
    )  # fmt: skip
    assert answer.status_code == 201, answer.text


def test_a_backup_older_than_a_witnessed_head_is_refused(tmp_path: Path) -> None:
    witnesses = make_witnesses(tmp_path / "offices", ["blue", "red"])
    path = tmp_path / "agreement.yaml"
    path.write_text(with_witnesses(AGREEMENT_TEXT, witnesses), "utf-8")
    agreement = load_agreement(path)
    folder = tmp_path / "center"
    folder.mkdir(mode=0o700)
    settings = settings_for(
        folder, agreement_path=path, escalation_interval_s=0, witness_interval_s=0
    )
    tokens = add_users(settings.database_url)
    keys = settings.keys_dir
    old, new = tmp_path / "old.backup", tmp_path / "new.backup"

    def target(name: str) -> str:
        return f"sqlite:///{tmp_path / name / 'accord.sqlite'}"

    with TestClient(create_app(Parts(settings, clock=clock, writer=Loopback))) as client:
        center: Center = client.app.state.center  # type: ignore[attr-defined]
        with serving(witnesses, center=center.ring.center, clock=lambda: T_WITNESS):
            five = fill(center, 5, 0, "A")
            assert ask(center, "blue", five) == ask(center, "red", five) == "cosigned"
            backed_old = backup(settings.database_url, old, agreement=agreement)
            # three declarations after the backup; a monitor's copy after the first, and
            # after the last
            declare(client, tokens, 21.1)
            six = latest_head(center)
            short = monitor_copy(settings.database_url, tmp_path / "short", agreement=agreement)
            declare(client, tokens, 21.2)
            declare(client, tokens, 21.3)
            eight = latest_head(center)
            whole = monitor_copy(settings.database_url, tmp_path / "whole", agreement=agreement)
            assert (five.size, six.size, eight.size) == (5, 6, 8)
            assert ask(center, "blue", eight) == "cosigned"  # blue's witness: 8 more; red's not
            backed_new = backup(settings.database_url, new, agreement=agreement)
            assert backed_old.entries == five.size < eight.size == backed_new.entries

            with pytest.raises(BackupError) as refused:
                restore(old, target("a"), agreement=agreement, keys=keys)
            assert str(refused.value) == (
                f"this backup holds {five.size:,} entries, but blue's witness cosigned a "
                f"record of {eight.size:,}: a center never serves less than a record its "
                "witnesses cosigned; give a party's monitor's state folder that holds the "
                "rest (--from-monitor), or restore a newer backup"
            )
            assert not (tmp_path / "a" / "accord.sqlite").exists()
            assert list((tmp_path / "a").iterdir()) == []  # nothing left behind
            # a monitor's copy that stops short of what blue's witness cosigned: refused too
            with pytest.raises(BackupError) as refused:
                restore(old, target("a"), agreement=agreement, keys=keys, monitors=[short])
            assert str(refused.value).startswith(
                f"with the 1 monitors' copies given, the record holds {six.size:,} entries, "
                f"but blue's witness cosigned a record of {eight.size:,}: "
            )
            assert list((tmp_path / "a").iterdir()) == []
            # with the whole copy, the old backup is brought up to what was cosigned
            recovered = restore(old, target("a"), agreement=agreement, keys=keys, monitors=[whole])
            assert recovered.head == backed_new and recovered.recovered == 3
            # red's witness is behind the newer backup: the center catches it up later
            assert restore(new, target("b"), agreement=agreement, keys=keys).head == backed_new

    # The witnesses gone: nobody can say the backup is not behind; the operator may vouch.
    with pytest.raises(BackupError, match="cannot tell whether the witnesses cosigned more"):
        restore(new, target("c"), agreement=agreement, keys=keys)
    with pytest.raises(BackupError, match="cannot tell"):
        restore(new, target("c"), agreement=agreement, keys=keys, without_witness=["red"])
    with pytest.raises(BackupError, match="--without-witness: no witness of green"):
        restore(new, target("c"), agreement=agreement, keys=keys, without_witness=["green"])
    vouched = restore(
        new, target("c"), agreement=agreement, keys=keys, without_witness=["blue", "red"]
    )
    assert vouched.head == backed_new
