"""Workloads for ``make bench``: Accord's figure, the baseline's figure, and their ratio."""
