"""The direct line: messages between parties, acknowledged by hash, escalated along contact
chains."""
