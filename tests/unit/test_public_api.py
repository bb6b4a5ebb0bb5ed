"""The curated public API: a change to it is a decision, not an accident."""

from __future__ import annotations

import importlib

import pytest

EXPECTED = {
    "accord": {
        "AccordError",
        "Agreement",
        "AgreementError",
        "BlockingConflict",
        "DeadlineError",
        "IllegalTransition",
        "InputError",
        "NotAuthorized",
        "ObjectKind",
        "PhaseError",
        "RuleError",
        "RuleKind",
        "WorldError",
        "__version__",
        "load_agreement",
        "phase_at",
    },
    "accord.airspace": {
        "Conflicts",
        "Latest",
        "PlanConflict",
        "Separation",
        "States",
        "TrackAreaFinding",
        "TrackConflict",
        "TrackReport",
        "TrackSet",
        "check_report",
        "detect_conflicts",
        "detect_conflicts_all_pairs",
        "latest",
        "load_tracks",
        "parse_tracks_csv",
        "parse_tracks_geojson",
        "probe_flight_plan",
        "report_from_fields",
        "track_area_findings",
        "track_conflicts",
    },
    "accord.deconfliction": {
        "SEGMENT_M",
        "Conflict",
        "DeconflictionIndex",
        "OperationCheck",
        "warm_up",
    },
    "accord.record": {
        "Checkpoint",
        "ConsistencyError",
        "EquivocationError",
        "FormatError",
        "KeyFileError",
        "KeyRing",
        "LogError",
        "Member",
        "MerkleLog",
        "PrivateKey",
        "ProofError",
        "PublicKey",
        "RecordError",
        "Recorder",
        "SQLiteStorage",
        "SignatureError",
        "SignedHead",
        "TamperError",
        "UnknownKeyError",
        "VerificationError",
        "VerificationReport",
        "Witness",
        "consistency_proof",
        "detect_split_view",
        "generate",
        "inclusion_proof",
        "leaf_hash",
        "root_hash",
        "verify_consistency",
        "verify_inclusion",
        "verify_log",
    },
    "accord.world": {
        "Declared",
        "Disclosure",
        "FlightPlan",
        "Movement",
        "Operation",
        "Position",
        "ProtectedSite",
        "World",
        "load_world",
        "parse_world",
    },
}


@pytest.mark.parametrize("module", sorted(EXPECTED))
def test_all_is_curated(module: str) -> None:
    mod = importlib.import_module(module)
    assert set(mod.__all__) == EXPECTED[module]
    for name in mod.__all__:
        assert hasattr(mod, name), f"{module}.{name} is in __all__ but missing"


def test_every_error_is_an_accord_error() -> None:
    import accord.errors as errors

    for name in errors.__all__:
        obj = getattr(errors, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, errors.AccordError)
