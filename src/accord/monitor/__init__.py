"""A party's monitor (``accord monitor``): follows the center's log as C2SP tlog-tiles,
verifies every new entry on the party's own machine, and raises the alarm the moment the
center rewrites, rolls back, splits its view, serves an invalid entry or stalls.

* :mod:`~accord.monitor.core` — one round (:meth:`~accord.monitor.core.Monitor.step`), the
  alarms and the evidence file, over sources and a clock the caller gives (no HTTP);
* :mod:`~accord.monitor.state` — the state folder: the party's own copy of the verified log
  (a log file ``accord verify`` reads) and the evidence written;
* :mod:`~accord.monitor.http` — the HTTP edge: the center's ``/tlog``, the witnesses'
  checkpoints, the loopback webhook and the violation report.

The command line is ``accord monitor`` (:mod:`accord.cli_monitor`).
"""
