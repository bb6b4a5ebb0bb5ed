"""The record's service side: signed tree heads, and the routes that serve entries, proofs
and keys. Appending entries (:mod:`accord.center.ledger`) and the key store
(:mod:`accord.center.keystore`) are the center's kernel, which every feature uses."""
