"""The capabilities in which power is counted and required: land, fires, air defence, air,
maritime and cyber.

Its own module below the scenario model, so that modules the model reaches (its summary, its
Jupyter view) can name the capabilities without importing the model back.
"""

from __future__ import annotations

from enum import StrEnum


class Capability(StrEnum):
    """A capability in which power is counted and required."""

    land = "land"
    fires = "fires"
    air_defence = "air_defence"
    air = "air"
    maritime = "maritime"
    cyber = "cyber"


CAPABILITIES: tuple[str, ...] = tuple(c.value for c in Capability)
