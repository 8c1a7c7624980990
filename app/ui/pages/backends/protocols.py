"""What the Backends page needs from the services and the task runner (small Protocols,
so tests can hand in fakes)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from app.domain.doctor import Verdict
from app.domain.models import Backend, Credential


class BackendsApi(Protocol):
    """The part of ``app.services.backends.BackendService`` this page uses."""

    def list(self) -> list[Backend]: ...
    @property
    def problems(self) -> Sequence[Any]: ...
    def add(
        self,
        backend: Backend,
        credential: Credential | None = None,
        *,
        save_secret: bool = True,
        replace: bool = False,
    ) -> Backend: ...
    def remove(self, name: str) -> str | None: ...
    def is_session_only(self, name: str) -> bool: ...


class DoctorApi(Protocol):
    """The part of ``app.services.doctor.DoctorService`` this page uses."""

    def test(self, name: str) -> Verdict: ...
    def all_last(self) -> dict[str, Verdict]: ...
    def forget(self, name: str) -> None: ...


class TasksApi(Protocol):
    """``app.ui.tasks.TaskRunner.run``: fn on a worker, callbacks on the UI thread."""

    def run(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        **kwargs: Any,
    ) -> Any: ...
