"""Drafts: the shapes a member's devices drew (ATAK's freehand lines, rectangles and circles,
``u-d-f``, ``u-d-r``, ``u-d-c-c``), saved by the member's own gateway or officers, found by
its officers and approvers on the page and turned into a proposal there — never a declaration
or an operation by themselves (issue 21 item 3).

* :mod:`~accord.center.drafts.service` — the checks, saving and deleting, and the entry kind
  ``draft.changed`` (a commitment only);
* :mod:`~accord.center.drafts.queries` — the member's drafts, as
  :func:`accord.center.visibility.sees_draft` lets their reader see them;
* :mod:`~accord.center.drafts.views` and :mod:`~accord.center.drafts.routes` — the response
  models and ``/v1/drafts``.
"""
