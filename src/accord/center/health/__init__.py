"""Whether a node is alive and ready: what an operator's supervisor asks, with no token."""
