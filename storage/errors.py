"""Errors storage raises instead of the database driver's, so the domain needs no SQLAlchemy."""

from __future__ import annotations


class AlreadyRecordedError(Exception):
    """A unique key is taken: the model's open request slot, a digest slot, and the like."""
