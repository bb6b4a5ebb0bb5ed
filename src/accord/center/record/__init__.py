"""The record's service side: signing entries and heads, the key store, and the routes that serve
entries, proofs and keys."""
