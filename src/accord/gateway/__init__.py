"""A party's TAK gateway (``accord cot gateway``), run at the party's own office: its own
devices connect to it beside the center's CoT endpoint, and their reports become the
party's acts, signed with the gateway user's key — a key the center never holds, so the
center never sees a report before it is signed and can make the gateway sign nothing.

* :mod:`~accord.gateway.state` — its folder: the devices it declared, its own certificate;
* :mod:`~accord.gateway.center` — the center's API, writes signed (``SignedActs``);
* :mod:`~accord.gateway.core` — events to requests: positions under the dead band
  (:mod:`accord.cot.deadband`), tracks, drafts; spoofing refused; bounded posting;
* :mod:`~accord.gateway.listener` — the TLS and plain ports, credentials checked with the
  center again and again;
* :mod:`~accord.gateway.run` — all of it started, a status line every few seconds.

It imports nothing of ``accord.center`` (import contract ``gateway-edge``).
"""
