"""The agreement's phases and the conditions members confirm; the agreement as served."""
