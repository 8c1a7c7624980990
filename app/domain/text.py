"""The one wording of Modeldeck: counts, times and durations as the CLI and the
GUI both print them. Pure functions, no Qt, no I/O, so both faces say the same
thing for the same data (docs/architecture.md, "One wording").
"""

from __future__ import annotations

from datetime import UTC, datetime

#: nouns whose plural is not ``noun + "s"``
_IRREGULAR = {
    "policy": "policies",
    "entry": "entries",
    "replica": "replicas",
    "match": "matches",
    "is": "are",
}

#: (suffix, seconds) from the largest unit down, for relative times
_UNITS = (
    ("y", 365 * 86400),
    ("mo", 30 * 86400),
    ("d", 86400),
    ("h", 3600),
    ("min", 60),
)

NEVER = "never"
UNKNOWN_TIME = "unknown"


def plural(n: int, noun: str) -> str:
    """``noun`` for 1, its plural otherwise (``version`` → ``versions``)."""
    if n == 1:
        return noun
    return _IRREGULAR.get(noun, noun + "s")


def counted(n: int, noun: str) -> str:
    """``1 app``, ``2 apps``, ``1,000 apps``, ``0 policies``."""
    return f"{n:,} {plural(n, noun)}"


def relative_time(when: datetime | None, now: datetime | None = None, *, missing: str = "—") -> str:
    """``just now``, ``5 min ago``, ``3 h ago``, ``2 mo ago``; ``missing`` for None.

    A time in the future (a clock ahead of ours) reads ``just now``, not a
    negative age.
    """
    if when is None:
        return missing
    seconds = ((now or datetime.now(tz=UTC)) - when).total_seconds()
    for unit, size in _UNITS:
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return "just now"


def exact_time(when: datetime | None) -> str:
    """Local wall-clock time with its zone, for tooltips and ``show`` output."""
    if when is None:
        return UNKNOWN_TIME
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def iso_time(when: datetime) -> str:
    """UTC, ISO 8601 with a ``Z``: the JSON form of every timestamp."""
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def duration(seconds: float) -> str:
    """``45 s``, ``12 min``, ``5 h``, ``3 d``: a span, rounded to its biggest unit."""
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = seconds / 60
    if minutes < 120:
        return f"{minutes:.0f} min"
    hours = minutes / 60
    if hours < 48:
        return f"{hours:.0f} h"
    return f"{hours / 24:.0f} d"
