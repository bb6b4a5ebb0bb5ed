"""Incident and violation reports: the ceasefire-monitoring mechanism (DECISIONS 16). A
monitor or a party files a report against a party or the center itself — what happened,
when, where, the record entries it cites, the hashes of its evidence — as a record entry
signed by the filer; the accused party sees it and may answer, signed by itself (nobody
answers for the center); the compliance report lists both beside its computed findings.

* :mod:`~accord.center.reports.service` — the checks, filing and answering, and the entry
  kinds ``report.filed`` and ``report.answered``;
* :mod:`~accord.center.reports.fold` — the reports as the record tells them (the picture's
  replay and the compliance report read them from there);
* :mod:`~accord.center.reports.queries` — the list and one report, as their reader may see
  them;
* :mod:`~accord.center.reports.views` and :mod:`~accord.center.reports.routes` — the
  response models and the HTTP routes.
"""
