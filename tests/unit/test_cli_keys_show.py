"""``accord keys show``: the key ring as signed-note verifier keys, and as a witness's list."""

from __future__ import annotations

import json

from accord.record.keys import PublicKey
from accord.record.witness_protocol import parse_log_list
from support import sample_log
from support.cli import run


def test_keys_show_prints_vkeys_of_each_type(tmp_path):
    (tmp_path / "KEYS.json").write_text(json.dumps(sample_log.RING.to_json()))
    result = run("keys", "show", tmp_path / "KEYS.json")
    assert result.exit_code == 0, result.output
    vkeys = [line for line in result.output.splitlines() if not line.startswith("#")]
    parsed = [PublicKey.from_vkey(v) for v in vkeys]
    center = sample_log.CENTER.public
    assert parsed[:2] == [(center, 0x01), (center, 0x04)]
    assert parsed[2:] == [(m.key, 0x04) for m in sample_log.RING.members]
    assert "# party blue" in result.output


def test_keys_show_log_list_is_what_the_witness_reads(tmp_path):
    (tmp_path / "KEYS.json").write_text(json.dumps(sample_log.RING.to_json()))
    result = run("keys", "show", tmp_path / "KEYS.json", "--log-list", "--contact", "ops desk")
    assert result.exit_code == 0, result.output
    logs = parse_log_list(result.output)
    assert list(logs) == [sample_log.ORIGIN]
    assert logs[sample_log.ORIGIN].keys == (sample_log.CENTER.public,)
    assert logs[sample_log.ORIGIN].contact == "ops desk"
    other = run("keys", "show", tmp_path / "KEYS.json", "--log-list", "--origin", "x.example/l")
    assert list(parse_log_list(other.output)) == ["x.example/l"]
