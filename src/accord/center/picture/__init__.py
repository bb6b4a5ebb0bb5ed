"""What the record alone shows: the replayed picture at an instant and the compliance report."""
