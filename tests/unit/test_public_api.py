"""The curated public API: a change to it is a decision, not an accident."""

from __future__ import annotations

import importlib
import pkgutil

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
    "accord.cot": {
        "MAX_EVENT_BYTES",
        "UNKNOWN",
        "XML",
        "AccordMark",
        "CotError",
        "Detail",
        "Dropped",
        "Ellipse",
        "Event",
        "EventSplitter",
        "Group",
        "Limits",
        "Link",
        "LinkPoint",
        "Point",
        "TakControl",
        "Takv",
        "TokenBucket",
        "Track",
        "alert_event",
        "circle_event",
        "delete_event",
        "is_air",
        "is_delete",
        "is_drawn_shape",
        "is_friendly",
        "is_friendly_ground",
        "is_takp",
        "parse_event",
        "point_event",
        "polygon_event",
        "position_declaration",
        "control_answer",
        "protocol_response",
        "protocol_support",
        "remarks_for",
        "requested_version",
        "route_event",
        "write_event",
    },
    "accord.deconfliction": {
        "SEGMENT_M",
        "Conflict",
        "DeconflictionIndex",
        "OperationCheck",
        "warm_up",
    },
    "accord.errors": {
        "AccordError",
        "ActClockError",
        "ActError",
        "ActKeyError",
        "ActReplayError",
        "BackupError",
        "BasemapError",
        "ActSignatureError",
        "AgreementError",
        "BlockingConflict",
        "CertificateRefused",
        "CommitFailed",
        "CommitmentError",
        "ConsistencyError",
        "CotError",
        "DeadlineError",
        "DeclarationNotFound",
        "DuplicateKey",
        "SbsError",
        "EquivocationError",
        "FormatError",
        "HashMismatch",
        "IllegalTransition",
        "InputError",
        "Issue",
        "KeyFileError",
        "LogError",
        "MonitorAlarm",
        "NoAct",
        "NoSplitView",
        "NotAuthorized",
        "NotFound",
        "NotJsonNumber",
        "PhaseError",
        "ProbingSlowed",
        "ProofError",
        "RateLimited",
        "ReaderUnavailable",
        "RecordDamaged",
        "RecordError",
        "RuleError",
        "SignatureError",
        "StaleRequest",
        "StaleSize",
        "TamperError",
        "TlsError",
        "TrackError",
        "Unavailable",
        "Unchecked",
        "UnknownKeyError",
        "UnsafePermissions",
        "VerificationError",
        "WorldError",
        "WitnessFailed",
        "WorldUnavailable",
        "WriterUnavailable",
        "field_path",
        "shown",
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
        "Device",
        "Disclosure",
        "FlightPlan",
        "Movement",
        "Operation",
        "Position",
        "ProtectedSite",
        "World",
        "load_world",
        "parse_world",
        "resolve_mgrs",
    },
}


@pytest.mark.parametrize("module", sorted(EXPECTED))
def test_all_is_curated(module: str) -> None:
    mod = importlib.import_module(module)
    assert set(mod.__all__) == EXPECTED[module]
    for name in mod.__all__:
        assert hasattr(mod, name), f"{module}.{name} is in __all__ but missing"


FAULTS = {"CommitFailed", "NoAct"}
"""Errors of accord.errors that are faults of the server, not refusals: outside AccordError."""

HTTP_LAYER = {"accord.center.http.problems.ProblemError"}
"""Exceptions that live in the service's HTTP layer (accord.errors says why)."""


def test_every_error_is_an_accord_error() -> None:
    import accord.errors as errors

    for name in errors.__all__:
        obj = getattr(errors, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, errors.AccordError) is (name not in FAULTS), name


def _modules() -> list[object]:
    import accord

    names = [
        m.name
        for m in pkgutil.walk_packages(accord.__path__, "accord.")
        if ".migrations.versions." not in m.name
    ]
    return [importlib.import_module(name) for name in sorted(names)]


def test_every_exception_class_is_defined_in_accord_errors() -> None:
    """One error tree: an exception class of the package is defined in accord.errors (and
    re-exported where its callers find it), lives in the HTTP layer, or is a module's
    private signal that never leaves it."""
    strays = set()
    for module in _modules():
        for name, obj in vars(module).items():
            if not (isinstance(obj, type) and issubclass(obj, BaseException)):
                continue
            where = f"{obj.__module__}.{obj.__qualname__}"
            if not obj.__module__.startswith("accord") or obj.__module__ == "accord.errors":
                continue
            if where in HTTP_LAYER:
                continue
            if obj.__qualname__.startswith("_"):
                assert name not in getattr(module, "__all__", ()), f"{where} is exported"
                continue
            strays.add(where)
    assert not strays, f"define these in accord.errors and re-export them: {sorted(strays)}"


def test_re_exported_errors_are_the_same_classes() -> None:
    """The old import paths of the errors still work, and give the one class."""
    import accord.errors as errors

    homes = 0
    for module in _modules():
        for name in getattr(module, "__all__", ()):
            if module.__name__ != "accord.errors" and hasattr(errors, name):
                obj = getattr(module, name)
                if isinstance(obj, type) and issubclass(obj, BaseException):
                    assert obj is getattr(errors, name), f"{module.__name__}.{name}"
                    homes += 1
    assert homes >= 20
