"""The agreement's phase as a response model, shared by the routes that answer it (the
phase, the caller's own page, the picture at an instant)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from accord.agreement import PhaseStatus

__all__ = ["PhaseOut"]


class PhaseOut(BaseModel):
    """The agreement's phase in force."""

    id: str
    name: str
    started_at: datetime
    categories: list[str]

    @classmethod
    def of(cls, status: PhaseStatus | None) -> PhaseOut | None:
        """The model of a phase status (None before the agreement starts)."""
        if status is None:
            return None
        phase = status.phase
        return cls(
            id=phase.id,
            name=phase.name,
            started_at=status.started_at,
            categories=list(phase.categories),
        )
