"""The connection doctor: try a configured backend now and keep the last verdict.

Orchestration only — the probing per kind lives in ``app.adapters.probe``, chosen
per kind by ``app.adapters.registry``. The
last verdict per backend is kept in a small JSON file in the data dir (never a
secret: verdicts name causes, not credentials), so the Backends page can show
"last contact" without contacting anything at start-up.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.adapters.registry import probe
from app.domain.backends import transport_problem
from app.domain.doctor import Verdict, VerdictCode
from app.domain.errors import CredentialError
from app.domain.models import Backend, Credential
from app.services.backends import BackendService

log = logging.getLogger(__name__)

Probe = Callable[[Backend, Credential | None], Verdict]


class DoctorService:
    def __init__(
        self, backends: BackendService, state_path: Path, *, prober: Probe = probe
    ) -> None:
        self._backends = backends
        self._path = state_path
        self._probe = prober
        self._lock = threading.Lock()
        self._last: dict[str, Verdict] | None = None

    def test(self, name: str, *, credential: Credential | None = None) -> Verdict:
        """Probe ``name`` now (network I/O: call off the UI thread).

        ``credential`` overrides the saved secret for this one test.
        Raises ``NotConfigured`` for an unknown name; every other failure is a verdict.
        """
        backend = self._backends.get(name)
        problem = transport_problem(backend)
        if problem:
            verdict = Verdict(
                backend=name,
                kind=str(backend.kind),
                url=backend.url,
                code=VerdictCode.BAD_CONFIG,
                summary="refused before connecting",
                cause=problem,
                next_step="use https://, or allow plain HTTP for this backend explicitly",
                checked_at=datetime.now(tz=UTC),
            )
            self._remember(verdict)
            return verdict
        note = ""
        if credential is None:
            try:
                credential = self._backends.credential(name)
            except CredentialError as exc:
                note = f" — the OS keyring could not be read, so no credentials were sent: {exc}"
        verdict = self._probe(backend, credential)
        if note:
            verdict = dataclasses.replace(verdict, cause=verdict.cause + note)
        self._remember(verdict)
        return verdict

    # ------------------------------------------------------------- state
    def last(self, name: str) -> Verdict | None:
        with self._lock:
            return self._state().get(name)

    def all_last(self) -> dict[str, Verdict]:
        with self._lock:
            return dict(self._state())

    def forget(self, name: str) -> None:
        with self._lock:
            if self._state().pop(name, None) is not None:
                self._save()

    def _remember(self, verdict: Verdict) -> None:
        with self._lock:
            self._state()[verdict.backend] = verdict
            self._save()

    def _state(self) -> dict[str, Verdict]:
        if self._last is None:
            self._last = {}
            try:
                raw = json.loads(self._path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                raw = {}
            except (OSError, ValueError) as exc:
                log.warning("ignoring unreadable %s: %s", self._path, exc)
                raw = {}
            for name, item in (raw.get("verdicts", {}) if isinstance(raw, dict) else {}).items():
                try:
                    self._last[name] = _from_json(item)
                except (KeyError, TypeError, ValueError):
                    continue
        return self._last

    def _save(self) -> None:
        assert self._last is not None
        data = {"verdicts": {n: _to_json(v) for n, v in self._last.items()}}
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".doctor-", dir=self._path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=1)
            os.replace(tmp, self._path)
        except OSError as exc:
            log.warning("cannot save doctor verdicts to %s: %s", self._path, exc)


def _to_json(v: Verdict) -> dict[str, Any]:
    d = {f.name: getattr(v, f.name) for f in dataclasses.fields(v)}
    d["code"] = str(v.code)
    d["checked_at"] = v.checked_at.isoformat()
    return d


def _from_json(d: dict[str, Any]) -> Verdict:
    names = {f.name for f in dataclasses.fields(Verdict)}
    kwargs = {k: v for k, v in d.items() if k in names}
    kwargs["code"] = VerdictCode(kwargs["code"])
    kwargs["checked_at"] = datetime.fromisoformat(kwargs["checked_at"])
    return Verdict(**kwargs)
