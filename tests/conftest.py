"""What every suite shares: the agreement the command line serves when a test names none.

A center refuses an agreement that names no trust roots (it would have to hold the members'
keys). The jig agreement as it ships names none, so the tests' processes serve it with the
tests' roots (:mod:`support.offices`, synthetic keys from fixed seeds) through
``ACCORD_AGREEMENT``, which ``accord serve`` and ``accord users`` read when ``--agreement``
is not given. A test that starts a center in-process names its own settings.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from support.jig import AGREEMENT_TEXT
from support.offices import rooted

_FOLDER = Path(tempfile.mkdtemp(prefix="accord-tests-agreement-"))
_ROOTED = _FOLDER / "jig-rooted.yaml"
_ROOTED.write_text(rooted(AGREEMENT_TEXT), encoding="utf-8")
os.environ.setdefault("ACCORD_AGREEMENT", str(_ROOTED))
