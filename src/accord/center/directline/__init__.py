"""The direct line: messages between parties, acknowledged by the hash of exactly what was
received, escalated along the receiving party's contact chain when they are not.

In the source story coordinates passed by voice were off by kilometres, the caller waited
27 minutes for the usual point of contact, and afterwards the receiving side said it had
received them while the sending side denied it. So here:

* :mod:`~accord.center.directline.messages` — a message fixed by the server, committed to in
  the record, acknowledged by its hash (the hot write path);
* :mod:`~accord.center.directline.escalation` — which recipients are due and the entries of
  their escalation steps (the engine, chains and presence: :mod:`accord.center.escalation`);
* :mod:`~accord.center.directline.reading` — messages and openings as their viewer may see
  them;
* :mod:`~accord.center.directline.views` and :mod:`~accord.center.directline.routes` — the
  response models and the HTTP routes.
"""
