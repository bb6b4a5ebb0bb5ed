"""Escalation along contact chains: one engine for everything that waits on a party's
acknowledgement — direct-line messages (:mod:`accord.center.directline.escalation`) and
airspace alert groups (:mod:`accord.center.airspace.escalation`).

* :mod:`~accord.rules.escalation` — the pure rule of the next step (no database, no
  clock);
* :mod:`~accord.center.escalation.contacts` — the parties' contact chains and their users'
  presence by heartbeat;
* :mod:`~accord.center.escalation.store` — the steps as stored (one table for every subject):
  recorded by one function, read by one, and cut for a reader;
* :mod:`~accord.center.escalation.service` — the driver that escalates whatever a feature
  says is due, the steps' live events, and the background loop;
* :mod:`~accord.center.escalation.views` — the answers (a step, a chain, a heartbeat).

A feature keeps what is its own: which of its rows are due, the record entry kinds of its
steps (signed by the center: the clock acted, not a party), and who besides the party hears of
them. The routes of chains and presence are the direct line's (``/v1/contacts``,
``/v1/presence``).
"""
