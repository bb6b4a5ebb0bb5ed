"""A center in a test and its parties' witnesses: entries appended straight through a unit of
work, and the center's own witness client asking one witness to cosign a head."""

from __future__ import annotations

import asyncio

import httpx

from accord.center.record.heads import latest_head
from accord.center.record.witnesses import WitnessFailed, ask_witness
from accord.center.runtime import Center
from accord.record.note import SignedHead
from support.jig import NOW


def fill(center: Center, count: int, start: int, view: str) -> SignedHead:
    """``count`` entries more in ``center``'s history (``view`` makes them its own); the
    head signed over them."""
    for i in range(start, start + count):
        with center.writing() as unit:
            unit.ledger.append({"kind": "test.event", "n": i, "view": view}, author="blue", at=NOW)
    return latest_head(center)


def ask(center: Center, party: str, head: SignedHead) -> str:
    """The center's own witness client asks ``party``'s witness to cosign ``head``:
    "cosigned", or the witness's refusal as the client reports it."""

    async def go() -> str:
        ref = center.agreement.witnesses[party]
        async with httpx.AsyncClient(trust_env=False) as client:
            try:
                await ask_witness(client, center, party, ref, head)
            except WitnessFailed as error:
                return str(error)
            return "cosigned"

    return asyncio.run(go())
