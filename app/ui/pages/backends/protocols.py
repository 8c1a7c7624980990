"""What the Backends page needs from the services and the task runner (small Protocols,
so tests can hand in fakes)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from app.domain.doctor import Verdict
from app.domain.health import HealthStatus
from app.domain.models import Backend, Credential
from app.domain.notify import Channel, ChannelKind

if TYPE_CHECKING:
    from app.services.notify import Delivery


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


class NotifyApi(Protocol):
    """The part of ``app.services.notify.NotifyService`` the channels section uses."""

    def channels(self) -> list[Channel]: ...
    def add_refused(self) -> str | None: ...
    def add(
        self,
        name: str,
        kind: ChannelKind,
        url: str,
        *,
        events: Sequence[str] | None = None,
        min_status: HealthStatus = HealthStatus.DEGRADED,
        replace: bool = False,
    ) -> tuple[Channel, str | None]: ...
    def remove(self, name: str) -> bool: ...
    def test(self, name: str) -> Delivery: ...
    def history(self, limit: int = 50) -> list[Delivery]: ...
