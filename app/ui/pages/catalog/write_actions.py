"""The model page's write controller: what may be written (``WriteAccess``, probed on
a worker per registry), the menus of the alias pills, tag chips and version rows, and
the dialogs that plan, confirm and apply each write.

Every write goes plan → show the change → confirm → apply, on workers; after one took
effect ``sig_written`` fires and the page re-reads the model from the cache (the
service upserted it), so pills and chips move without a sync.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from app.domain.models import ModelDetail, ModelVersion
from app.domain.registry import Capability, RegistryChange
from app.services.catalog import CatalogService
from app.ui.pages.catalog.editors import MarkdownCard, MenuEntry
from app.ui.pages.catalog.promotion_dialog import PromotionDialog
from app.ui.pages.catalog.write_dialog import Field, PlanDialog, WriteDialog
from app.ui.pages.catalog.writes import WriteAccess, WriteServices, checking, offline_reason, probe
from app.ui.tasks import TaskRunner
from app.ui.theme import Tokens

D = TypeVar("D", bound=PlanDialog)

NO_SERVICES = "Registry writes are not available in this window"
#: how many versions an alias pill's menu offers to move to
MOVE_CHOICES = 8


class ModelWrites(QObject):
    """Write access and write dialogs for the model on the page."""

    #: ``access`` changed (probed, or found offline): the page updates its actions
    sig_access_changed = Signal()
    #: a write took effect (carries the ``WriteOutcome``)
    sig_written = Signal(object)

    def __init__(
        self,
        services: WriteServices | None,
        catalog: CatalogService,
        tasks: TaskRunner,
        tokens: Tokens,
        window: QWidget,
    ) -> None:
        super().__init__(window)
        self._services, self._catalog, self._tasks, self._tokens = services, catalog, tasks, tokens
        self._window = window
        self.access = WriteAccess("", blocked=NO_SERVICES)
        self.detail: ModelDetail | None = None
        #: the dialog opened last (tests drive it)
        self.dialog: Any = None
        self._generation = 0

    # ------------------------------------------------------------ access
    def set_detail(self, detail: ModelDetail, *, reprobe: bool = False) -> None:
        self.detail = detail
        if reprobe or self.access.source != detail.model.source:
            self.probe()

    def probe(self) -> None:
        if self.detail is None:
            return
        source = self.detail.model.source
        self._generation += 1
        gen = self._generation
        if self._services is None:
            self._set_access(WriteAccess(source, blocked=NO_SERVICES))
            return
        if self.access.source != source or self.access.blocked == NO_SERVICES:
            self._set_access(checking(source))
        # else: the same registry read again (after a write or a sync) — keep what is
        # known until the new answer arrives, so nothing flickers off and on

        def done(access: WriteAccess) -> None:
            if gen == self._generation:
                self._set_access(access)

        def failed(exc: BaseException) -> None:
            if gen == self._generation:
                self._set_access(WriteAccess(source, blocked=str(exc)))

        self._tasks.run(
            probe,
            self._services,
            self._catalog,
            source,
            name="registry write access",
            on_done=done,
            on_error=failed,
        )

    def _set_access(self, access: WriteAccess) -> None:
        self.access = access
        self.sig_access_changed.emit()

    def why_not(self, capability: Capability) -> str:
        return self.access.why_not(capability)

    def mark_offline(self, error: str) -> None:
        """A plan or a write just failed to reach the registry: writes stay off (and say
        why) until the page is re-read after a sync."""
        source = self.access.source
        self._set_access(
            self.access.offline(offline_reason(source, error.removeprefix(f"{source}: ")))
        )

    # ------------------------------------------------------------ menus
    def _versions(self) -> list[ModelVersion]:
        return list(self.detail.versions) if self.detail is not None else []

    def alias_menu(self, alias: str, at: str) -> list[MenuEntry | None]:
        """The header pill's menu: move ``alias`` to another (recent) version, or remove it."""
        why = self.why_not(Capability.ALIAS)
        entries: list[MenuEntry | None] = []
        others = [v for v in self._versions() if v.version != at][:MOVE_CHOICES]
        for v in others:
            entries.append(
                (
                    f"Move {alias} to v{v.version}…",
                    partial(self.move_alias, alias, v.version),
                    why,
                )
            )
        if others:
            entries.append(None)
        entries.append((f"Remove {alias}…", lambda: self.remove_alias(alias), why))
        return entries

    def version_menu(self, version: ModelVersion) -> list[MenuEntry | None]:
        """A version row's menu: move each alias of the model here, remove the ones here."""
        why = self.why_not(Capability.ALIAS)
        aliases: Mapping[str, str] = self.detail.model.aliases if self.detail else {}
        entries: list[MenuEntry | None] = []
        for alias, at in sorted(aliases.items(), key=lambda kv: (kv[0] != "champion", kv[0])):
            if at == version.version:
                continue
            entries.append(
                (
                    f"Move {alias} here (v{at} → v{version.version})…",
                    partial(self.move_alias, alias, version.version),
                    why,
                )
            )
        here = [a for a, at in aliases.items() if at == version.version]
        if here and entries:
            entries.append(None)
        for alias in sorted(here):
            entries.append((f"Remove {alias}…", partial(self.remove_alias, alias), why))
        if not entries:
            entries.append(
                (
                    "No alias to move here",
                    lambda: None,
                    "This model has no alias yet (set one with: modeldeck models alias set)",
                )
            )
        return entries

    def tag_menu(self, key: str, value: str, version: str | None) -> list[MenuEntry | None]:
        cap = Capability.MODEL_TAG if version is None else Capability.VERSION_TAG
        why = self.why_not(cap)
        return [
            ("Edit value…", lambda: self.edit_tag(version, key, value), why),
            (f"Remove {key}…", lambda: self.remove_tag(version, key), why),
        ]

    # ------------------------------------------------------------ dialogs
    def _where(self) -> tuple[str, str]:
        assert self.detail is not None
        return self.detail.model.name, self.detail.model.source

    def _subtitle(self, version: str | None = None) -> str:
        model, source = self._where()
        on = f" v{version}" if version else ""
        who = f" · as {self.access.identity.label}" if self.access.identity else ""
        return f"{model}{on} · {source}{who}"

    def _watch(self, dialog: D) -> D:
        dialog.sig_applied.connect(self.sig_written.emit)
        dialog.sig_unreachable.connect(self.mark_offline)
        self.dialog = dialog
        return dialog

    def _registry(self) -> Any:
        assert self._services is not None
        return self._services.registry()

    def _governance(self) -> Any:
        assert self._services is not None
        return self._services.governance()

    def _plain(
        self,
        title: str,
        planner: Any,
        confirm: Any,
        *,
        fields: tuple[Field, ...] = (),
        version: str | None = None,
        applier: Any = None,
    ) -> WriteDialog:
        return self._watch(
            WriteDialog.ask(
                self._tasks,
                self._tokens,
                title,
                planner=planner,
                applier=applier or (lambda plan: self._registry().apply(plan)),
                confirm_text=confirm,
                fields=fields,
                subtitle=self._subtitle(version),
                parent=self._window,
            )
        )

    def move_alias(self, alias: str, version: str) -> PromotionDialog:
        assert self._services is not None
        assert self.detail is not None
        model, source = self._where()
        identity = self.access.identity
        return self._watch(
            PromotionDialog.ask(
                self._services,
                self._tasks,
                self._tokens,
                model=model,
                source=source,
                alias=alias,
                version=version,
                current=self.detail.model.aliases.get(alias),
                actor=identity.label if identity else "",
                parent=self._window,
            )
        )

    def remove_alias(self, alias: str) -> WriteDialog:
        model, source = self._where()
        change = RegistryChange.remove_alias(source, model, alias)
        return self._plain(
            f"Remove {alias}",
            lambda: self._registry().plan(change),
            lambda plan, _v: f"Remove {alias} (from {plan.before})",
        )

    def edit_tag(self, version: str | None, key: str | None = None, value: str = "") -> WriteDialog:
        """Add a tag (``key`` None) or edit an existing one's value."""
        model, source = self._where()
        on = "the model" if version is None else f"v{version}"

        def plan(key: str, value: str) -> Any:
            change = RegistryChange.set_tag(source, model, key.strip(), value, version=version)
            return self._registry().plan(change)

        fields = (
            Field("key", "Key", key or "", "e.g. team", read_only=key is not None, required=True),
            Field("value", "Value", value, "the tag's value"),
        )
        title = f"Add a tag to {on}" if key is None else f"Edit tag {key}"
        return self._plain(
            title,
            plan,
            lambda _plan, v: f"Set {v['key'].strip()} = {_cut(v['value'])} on {on}",
            fields=fields,
            version=version,
        )

    def remove_tag(self, version: str | None, key: str) -> WriteDialog:
        model, source = self._where()
        on = "the model" if version is None else f"v{version}"
        change = RegistryChange.remove_tag(source, model, key, version=version)
        return self._plain(
            f"Remove tag {key}",
            lambda: self._registry().plan(change),
            lambda _plan, _v: f"Remove {key} from {on}",
            version=version,
        )

    def save_description(self, version: str | None, text: str, card: MarkdownCard) -> WriteDialog:
        model, source = self._where()
        on = "the model card" if version is None else f"the description of v{version}"
        change = RegistryChange.describe(source, model, text, version=version)
        dialog = self._plain(
            f"Save {on}",
            lambda: self._registry().plan(change),
            lambda _plan, _v: f"Save {on}",
            version=version,
        )
        dialog.resize(760, 580)  # room for the new text under the change
        dialog.sig_applied.connect(lambda _o: card.finish_edit())
        return dialog

    def approve(self, version: str, alias: str) -> WriteDialog:
        model, source = self._where()

        def plan(note: str) -> Any:
            return self._governance().plan_approval(model, version, alias, note=note, source=source)

        return self._plain(
            f"Approve v{version} for {alias}",
            plan,
            lambda _plan, _v: f"Approve v{version} for {alias}",
            fields=(Field("note", "Note (optional)", "", "why — kept with the approval"),),
            version=version,
            applier=lambda p: self._governance().approve(p),
        )

    def revoke(self, version: str, alias: str) -> WriteDialog:
        model, source = self._where()
        return self._plain(
            f"Revoke your approval of v{version}",
            lambda: self._governance().plan_revoke(model, version, alias, source=source),
            lambda _plan, _v: f"Revoke my approval for {alias}",
            version=version,
            applier=lambda p: self._governance().revoke(p),
        )


def _cut(value: str, limit: int = 24) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"
