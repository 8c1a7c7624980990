"""The catalog-source role: what a model registry adapter offers the sync service.

A source hands out *complete* models: a :class:`CatalogEntry` always carries
every version the registry has for that model, so the sync service can commit
a page of entries in one transaction and never leave half a model behind.

A source may also *write* (aliases, tags, descriptions): what it can do is declared in
``capabilities``; a write it cannot do raises ``NotSupported`` naming the registry and
the capability. ``ReadOnlyRegistry`` is the base for a source that writes nothing.
Writes are sent exactly once (never retried blindly): the caller
(``app.services.registry``) re-reads to learn whether a write whose reply was lost
took effect.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NoReturn, Protocol, runtime_checkable

from app.domain.catalog import CatalogEntry, CatalogPage, RunData
from app.domain.models import RegisteredModel
from app.domain.registry import Capability, NotSupported

__all__ = [
    "Capability",
    "CatalogEntry",
    "CatalogPage",
    "CatalogSource",
    "NotSupported",
    "ReadOnlyRegistry",
    "RunData",
]


@runtime_checkable
class CatalogSource(Protocol):
    """A model registry seen as a source of catalog pages.

    Every method raises only :class:`app.domain.errors.BackendError` subclasses;
    a reply that does not fit raises ``BadResponse`` naming the field, before
    anything of it reaches the caller.
    """

    name: str

    def pages(self, *, since: str | None = None) -> Iterator[CatalogPage]:
        """Every model (``since=None``: a full pass), or at least every model changed
        since the cursor ``since`` (an incremental pass), in pages of complete models.
        """
        ...

    def heads(self) -> Iterator[tuple[RegisteredModel, ...]]:
        """Every model's header (fields, tags, aliases) without versions, in pages:
        what a sweep compares with the cache to find alias and tag changes and
        deletions that move no timestamp."""
        ...

    def complete(self, names: Sequence[str]) -> tuple[CatalogEntry, ...]:
        """Complete entries for the models among ``names`` that exist (others left out)."""
        ...

    def get_model(self, name: str) -> CatalogEntry | None:
        """One model with its versions, or ``None`` when the registry has no such model."""
        ...

    def run_data(self, run_id: str) -> RunData:
        """Params and metrics of one run (``BackendNotFound`` when it does not exist)."""
        ...

    def close(self) -> None: ...

    # ---------------------------------------------------------- writes
    #: the writes this registry can do; a write outside them raises ``NotSupported``
    capabilities: frozenset[Capability]

    def set_alias(self, model: str, alias: str, version: str) -> None:
        """Point ``alias`` of ``model`` at ``version`` (creates or moves it). ``ALIAS``."""
        ...

    def delete_alias(self, model: str, alias: str) -> None:
        """Remove ``alias`` from ``model``. ``ALIAS``."""
        ...

    def set_model_tag(self, model: str, key: str, value: str) -> None:
        """``MODEL_TAG``."""
        ...

    def delete_model_tag(self, model: str, key: str) -> None:
        """``MODEL_TAG``."""
        ...

    def set_version_tag(self, model: str, version: str, key: str, value: str) -> None:
        """``VERSION_TAG``."""
        ...

    def delete_version_tag(self, model: str, version: str, key: str) -> None:
        """``VERSION_TAG``."""
        ...

    def update_model_description(self, model: str, text: str) -> None:
        """Replace the model's (Markdown) description; ``""`` clears it.
        ``MODEL_DESCRIPTION``."""
        ...

    def update_version_description(self, model: str, version: str, text: str) -> None:
        """``VERSION_DESCRIPTION``."""
        ...

    def authenticated_user(self) -> str | None:
        """The user name the registry itself authenticated our credentials as, or None
        when it authenticates nobody (no auth on the server, or a token it does not
        name). What makes an approval "verified" rather than an OS login."""
        ...


class ReadOnlyRegistry:
    """The write half of :class:`CatalogSource` for a registry that writes nothing:
    no capabilities, and every write refused with ``NotSupported`` naming the registry.

    A read-only adapter subclasses it (and sets ``name``); an adapter that can do some
    writes lists them in ``capabilities`` and overrides those methods only.
    """

    name: str
    capabilities: frozenset[Capability] = frozenset()
    #: said after the capability in the refusal, e.g. "the demo registry is read-only"
    read_only_reason: str = ""

    def _refuse(self, capability: Capability) -> NoReturn:
        raise NotSupported(self.name, capability, self.read_only_reason)

    def authenticated_user(self) -> str | None:
        return None

    def set_alias(self, model: str, alias: str, version: str) -> None:
        self._refuse(Capability.ALIAS)

    def delete_alias(self, model: str, alias: str) -> None:
        self._refuse(Capability.ALIAS)

    def set_model_tag(self, model: str, key: str, value: str) -> None:
        self._refuse(Capability.MODEL_TAG)

    def delete_model_tag(self, model: str, key: str) -> None:
        self._refuse(Capability.MODEL_TAG)

    def set_version_tag(self, model: str, version: str, key: str, value: str) -> None:
        self._refuse(Capability.VERSION_TAG)

    def delete_version_tag(self, model: str, version: str, key: str) -> None:
        self._refuse(Capability.VERSION_TAG)

    def update_model_description(self, model: str, text: str) -> None:
        self._refuse(Capability.MODEL_DESCRIPTION)

    def update_version_description(self, model: str, version: str, text: str) -> None:
        self._refuse(Capability.VERSION_DESCRIPTION)
