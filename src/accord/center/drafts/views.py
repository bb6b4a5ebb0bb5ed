"""Drafts' answers: the response models ``/v1/drafts`` serves, built from a
:class:`~accord.center.drafts.service.DraftRecord`. Only this module and the routes import
pydantic."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from accord.center.drafts.service import DraftRecord, Saved

__all__ = [
    "DeviceOut",
    "DraftChangeOut",
    "DraftOpeningOut",
    "DraftOpeningsOut",
    "DraftOut",
    "DraftsOut",
    "SavedOut",
    "draft_out",
    "saved_out",
]


class DeviceOut(BaseModel):
    """The device that drew a draft, as it named itself."""

    uid: str
    callsign: str | None


class DraftOut(BaseModel):
    """A draft of the caller's member: a shape one of its devices drew."""

    key: str = Field(description="the drawing's CoT uid: unique within the member")
    name: str
    shape: str = Field(description="freehand, rectangle or circle")
    geometry: dict[str, Any] = Field(description="a GeoJSON Polygon or LineString, as given")
    device: DeviceOut
    drawn_at: datetime
    created_at: datetime = Field(description="when the center first saved this key")
    saved_at: datetime = Field(description="when the center saved this version")
    entry: int = Field(description="the draft.changed entry of this save (a commitment only)")


class SavedOut(DraftOut):
    """A draft as saved, and whether the key was new (201) or replaced a draft (200)."""

    created: bool


class DraftsOut(BaseModel):
    """The caller's member's drafts, the latest saved first."""

    items: list[DraftOut]


def draft_out(draft: DraftRecord) -> DraftOut:
    """The answer for ``draft``."""
    return DraftOut.model_validate(draft.as_json())


def saved_out(saved: Saved) -> SavedOut:
    """The answer for a save."""
    return SavedOut.model_validate({**saved.draft.as_json(), "created": saved.created})


class DraftOpeningOut(BaseModel):
    """What opens the commitment of one ``draft.changed`` entry of the caller's member: the
    salt (base64) and the canonical JSON committed to (``accord record open`` checks it)."""

    entry: int
    commitment: str
    salt: str
    content: str


class DraftChangeOut(BaseModel):
    """One ``draft.changed`` entry of the caller's member, with its opening."""

    entry: int
    key: str
    action: str = Field(description="saved or deleted")
    at: datetime
    opening: DraftOpeningOut


class DraftOpeningsOut(BaseModel):
    """The caller's member's draft entries with their openings, in entry order; ``next``:
    the ``after`` of the next page (null: none)."""

    entries: list[DraftChangeOut]
    next: int | None
