"""What the model page may write, and why not: the registry's capabilities, whether it
is reachable, who writes, and the team's policy — read once per model on a worker.

Every write action on the model page asks ``WriteAccess.why_not(capability)``: an empty
string enables it, anything else is the disabled action's tooltip. The three reasons:

* **offline** — the registry's last sync failed to reach it (the status bar's
  "Offline: NAME"), or a plan just failed with ``Unreachable``. Writes go straight to
  the registry; nothing is ever queued while offline.
* **the registry cannot** — ``RegistryWriteService.capabilities(source)`` lacks it
  (a read-only registry such as the demo's), or the registry is not configured.
* **policy** — judged by the promotion dialog's gate (it reads the registry), so the
  confirm button, not the menu entry, says which rule refuses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from app.domain.errors import ModeldeckError
from app.domain.policy import APPROVAL_PREFIX, AliasRule, Policy
from app.domain.registry import Capability, Identity, NotSupported
from app.services.catalog import CatalogService
from app.ui.theme import Tokens

if TYPE_CHECKING:
    from app.services.governance import GovernanceService
    from app.services.registry import RegistryWriteService

CHECKING = "Checking what this registry can write…"


@dataclass(frozen=True)
class WriteServices:
    """The write services, built on first use (on a worker: they bring httpx and the
    keyring with them)."""

    registry: Callable[[], RegistryWriteService]
    governance: Callable[[], GovernanceService]


@dataclass(frozen=True)
class WriteAccess:
    """What registry ``source`` lets this desktop write now."""

    source: str
    capabilities: frozenset[Capability] = frozenset()
    identity: Identity | None = None
    policy: Policy = field(default_factory=Policy)
    #: why nothing can be written now (offline, not configured); "" when writes can go
    blocked: str = ""
    #: the installed policy cannot be read (one line); the gate will refuse to judge
    policy_problem: str = ""

    def why_not(self, capability: Capability) -> str:
        """Why ``capability`` is unavailable (the disabled action's tooltip); "" if it is."""
        if self.blocked:
            return self.blocked
        if capability not in self.capabilities:
            why = "it is read-only" if not self.capabilities else ""
            return str(NotSupported(self.source, capability, why))
        return ""

    def offline(self, reason: str) -> WriteAccess:
        return replace(self, blocked=reason)

    @property
    def actor(self) -> str:
        return self.identity.actor if self.identity is not None else ""

    def gated(self, aliases: Iterable[str]) -> list[tuple[str, AliasRule]]:
        """The aliases among ``aliases`` and the policy's exactly named rules that
        need approvals, with their rule, in a stable order."""
        names = {r.name for r in self.policy.rules if _plain(r.name)} | set(aliases)
        out = []
        for name in sorted(names, key=lambda n: (n != "champion", n)):
            rule = self.policy.rule_for(name)
            if rule is not None and rule.approvals > 0:
                out.append((name, rule))
        return out


def checking(source: str) -> WriteAccess:
    """Access while the probe runs: nothing enabled, and the tooltip says why."""
    return WriteAccess(source, blocked=CHECKING)


def _plain(name: str) -> bool:
    return not any(c in name for c in "*?[]!")


def looks_unreachable(error: str | None) -> bool:
    """A sync error that means the registry could not be reached (not a bad reply)."""
    text = (error or "").lower()
    words = ("refused", "timed out", "timeout", "resolve", "cannot connect", "unreachable", "tls")
    return any(w in text for w in words)


def offline_reason(source: str, error: str) -> str:
    return (
        f"Offline: {source} could not be reached ({error}). Writes go straight to the "
        "registry and are never queued — sync (Ctrl+R) once it answers."
    )


def probe(services: WriteServices, catalog: CatalogService, source: str) -> WriteAccess:
    """Read what ``source`` can write (worker thread): capabilities (no network), the
    identity, the policy and the last sync's reachability."""
    registry = services.registry()
    try:
        caps = registry.capabilities(source)
    except ModeldeckError as exc:
        return WriteAccess(
            source, blocked=f"{exc} — edits go to a registry configured under Backends"
        )
    identity = registry.identity(source)
    policy, problem = Policy(), ""
    try:
        policy = services.governance().policy()
    except ModeldeckError as exc:
        problem = str(exc)
    blocked = ""
    state = next((s for s in catalog.info().sources if s.name == source), None)
    if state is not None and state.last_error and looks_unreachable(state.last_error):
        blocked = offline_reason(source, state.last_error)
    return WriteAccess(source, caps, identity, policy, blocked, problem)


def is_approval_tag(key: str) -> bool:
    return key.startswith(APPROVAL_PREFIX)


def write_stylesheet(t: Tokens) -> str:
    """Alias pills, tag chips, the editors and the governance widgets (model page and
    its dialogs, on top of theme.py)."""
    return f"""
    QToolButton#aliasPill, QToolButton#aliasPillAccent, QToolButton#tagChip {{
        border-radius: 10px; padding: 2px 9px; font-size: 8.5pt;
    }}
    QToolButton#aliasPill {{ background: {t.hover}; color: {t.text}; font-weight: 600;
        border: 1px solid {t.border}; }}
    QToolButton#aliasPillAccent {{ background: {t.accent}; color: {t.accent_text};
        font-weight: 600; border: 1px solid {t.accent}; }}
    QToolButton#tagChip {{ background: {t.hover}; color: {t.text}; border: 1px solid {t.hover}; }}
    QToolButton#aliasPill:hover, QToolButton#tagChip:hover {{ border: 1px solid {t.accent}; }}
    QToolButton#aliasPill::menu-indicator, QToolButton#aliasPillAccent::menu-indicator,
    QToolButton#tagChip::menu-indicator {{ image: none; width: 0; }}
    QToolButton#addChip {{
        border: 1px dashed {t.border}; border-radius: 10px; padding: 2px 9px; color: {t.muted};
        font-size: 8.5pt;
    }}
    QToolButton#addChip:hover {{ border: 1px dashed {t.accent}; color: {t.accent}; }}
    QToolButton#addChip:disabled {{ color: {t.muted}; border: 1px dashed {t.hover}; }}
    QToolButton#addChip::menu-indicator {{ image: none; width: 0; }}
    QPushButton#small {{ padding: 3px 10px; }}
    QPushButton#danger {{
        background: {t.failing}; color: white; border: 1px solid {t.failing}; font-weight: 600;
    }}
    QPushButton#danger:disabled {{ background: {t.hover}; color: {t.muted};
        border: 1px solid {t.border}; }}
    QPushButton#dangerOutline {{ color: {t.failing}; border: 1px solid {t.failing};
        background: transparent; font-weight: 600; }}
    QPushButton#dangerOutline:checked {{ background: {t.failing}; color: white; }}
    QPushButton#dangerOutline:disabled {{ color: {t.muted}; border: 1px solid {t.border}; }}
    QPushButton#primary:disabled {{
        background: {t.hover}; color: {t.muted}; border: 1px solid {t.border};
    }}
    QPlainTextEdit#editor {{
        background: {t.surface}; border: 1px solid {t.accent}; border-radius: 8px;
        padding: 6px; selection-background-color: {t.selection};
    }}
    QFrame#section {{ background: {t.surface}; border: 1px solid {t.border};
        border-radius: 10px; }}
    QFrame#changeBox {{ background: {t.hover}; border: none; border-radius: 10px; }}
    QFrame#overrideBox {{ background: {_soft(t.failing, t)}; border: 1px solid {t.failing};
        border-radius: 10px; }}
    QLabel#overrideTitle {{ color: {t.failing}; font-weight: 700; }}
    QLabel#changeSummary {{ font-size: 13pt; font-weight: 600; color: {t.text}; }}
    QLabel#fieldLabel {{ color: {t.muted}; font-size: 8.5pt; font-weight: 600; }}
    QLabel#sectionTitle {{ font-weight: 600; color: {t.text}; }}
    QLabel#statusOk {{ color: {t.healthy}; font-weight: 600; }}
    QLabel#statusError {{ color: {t.failing}; font-weight: 600; }}
    QLabel#statusBusy, QLabel#checkMessage {{ color: {t.muted}; }}
    QLabel#checkFailed {{ color: {t.failing}; }}
    QLabel#verified {{ background: {_soft(t.healthy, t)}; color: {t.healthy};
        border-radius: 8px; padding: 1px 7px; font-size: 8pt; font-weight: 600; }}
    QLabel#unverified {{ background: {_soft(t.degraded, t)}; color: {t.degraded};
        border-radius: 8px; padding: 1px 7px; font-size: 8pt; font-weight: 600; }}
    QLabel#versionTitle {{ font-size: 12pt; font-weight: 600; color: {t.text}; }}
    QTextBrowser#markdown {{ background: {t.surface}; border: none; padding: 4px 2px; }}
    QMenu {{ background: {t.surface}; color: {t.text}; border: 1px solid {t.border};
        border-radius: 8px; padding: 4px; }}
    QMenu::item {{ padding: 6px 16px; border-radius: 6px; }}
    QMenu::item:selected {{ background: {t.accent_soft}; color: {t.text}; }}
    QMenu::item:disabled {{ color: {t.muted}; }}
    QMenu::separator {{ height: 1px; background: {t.border}; margin: 4px 8px; }}
    """


def _soft(color: str, t: Tokens) -> str:
    h = color.lstrip("#")
    r, g, b = int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
    return f"rgba({r}, {g}, {b}, {60 if t.dark else 30})"
