"""A party's witness: C2SP tlog-witness v1 over HTTP, its state in its own SQLite.

* :mod:`~accord.witness.store` — the latest cosigned checkpoint per log and the evidence
  kept, each request's check and write one transaction;
* :mod:`~accord.witness.server` — the HTTP edge (Starlette), group commit.

The protocol itself (parsing, checks, the status of each refusal) is pure, in
:mod:`accord.record.witness_protocol`; the command line is ``accord witness``
(:mod:`accord.cli_witness`).
"""
