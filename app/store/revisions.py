"""Which cache schema revisions this build knows, read from the migration files.

Kept free of SQLAlchemy and alembic so that checking a cache file at start-up
costs nothing but a directory listing; the files are shipped in the bundle too.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

VERSIONS_DIR = Path(__file__).with_name("migrations") / "versions"
_NAME = re.compile(r"^(\d{4})_\w+\.py$")


@cache
def known_revisions() -> tuple[str, ...]:
    """Every revision id (``0001``, ``0002`` …), oldest first. Revision ids are the
    files' four-digit prefixes, and each file's ``down_revision`` is the one before
    (a unit test checks this against alembic's own view)."""
    return tuple(sorted(m.group(1) for p in VERSIONS_DIR.iterdir() if (m := _NAME.match(p.name))))


def head_revision() -> str:
    return known_revisions()[-1]
