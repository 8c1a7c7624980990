"""The connection doctor's verdict on a demo backend: nothing to connect to, so the
verdict says what it is — simulated — and whether its demo workspace is there."""

from __future__ import annotations

from datetime import UTC, datetime

from app.adapters.demo import world as worlds
from app.domain.doctor import Verdict, VerdictCode
from app.domain.errors import Unreachable
from app.domain.kinds import spec
from app.domain.models import Backend

SUMMARY = "demo backend (simulated)"


def verdict(backend: Backend) -> Verdict:
    label = spec(backend.kind).label.lower()
    now = datetime.now(tz=UTC)
    try:
        worlds.load(backend.name, worlds.workspace_of(backend))
    except Unreachable as exc:
        return Verdict(
            backend=backend.name,
            kind=str(backend.kind),
            url=backend.url,
            code=VerdictCode.UNREACHABLE,
            summary="demo workspace missing",
            cause=exc.detail,
            next_step="regenerate the demo: modeldeck demo --regenerate",
            checked_at=now,
        )
    return Verdict(
        backend=backend.name,
        kind=str(backend.kind),
        url=backend.url,
        code=VerdictCode.OK,
        summary=SUMMARY,
        cause=(
            f"the {label} of the demo workspace: generated data, answered in process; "
            "no server is contacted"
        ),
        next_step="",
        checked_at=now,
        server_version="demo",
    )
