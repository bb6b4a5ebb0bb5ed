"""The center's TAK endpoint (issue 21): the listener (:mod:`~accord.center.cot.listener`)
and the picture a device is sent (:mod:`~accord.center.cot.picture`). An edge: it calls the
services and the visibility policy, and has no rules of its own."""
