"""The selected version under the Versions table: its aliases (and a menu to move one
here), its description (Markdown, editable), its tags (editable chips; approval tags
are shown as approvals instead) and its approvals."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.models import ModelVersion
from app.domain.registry import Capability
from app.ui.kit.widgets import exact_time, named, relative_time
from app.ui.pages.catalog.editors import (
    ChipFlow,
    MarkdownCard,
    add_chip,
    alias_pill,
    fill_menu,
    tag_chip,
)
from app.ui.pages.catalog.governance import ApprovalsPanel
from app.ui.pages.catalog.write_actions import ModelWrites
from app.ui.pages.catalog.writes import is_approval_tag
from app.ui.theme import Tokens


class VersionPanel(QScrollArea):
    """One version's card: aliases, description, tags, approvals."""

    def __init__(self, writes: ModelWrites, tokens: Tokens, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._writes, self._tokens = writes, tokens
        self.version: ModelVersion | None = None
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAccessibleName("Selected version")
        inner = named(QWidget(), "versionPanel")
        self.setWidget(inner)
        lay = QVBoxLayout(inner)
        lay.setContentsMargins(4, 12, 8, 8)
        lay.setSpacing(12)

        head = QHBoxLayout()
        head.setSpacing(10)
        self.heading = named(QLabel("Select a version"), "versionTitle")
        head.addWidget(self.heading)
        self.facts = named(QLabel(""), "muted")
        head.addWidget(self.facts, 1)
        self.move_menu = QMenu(self)
        self.move_menu.aboutToShow.connect(self._fill_move_menu)
        self.move_button = QToolButton()
        self.move_button.setText("Move an alias here  ▾")
        self.move_button.setObjectName("addChip")
        self.move_button.setAccessibleName("Move an alias to this version")
        self.move_button.setToolTip("Move an alias of this model here, or remove one")
        self.move_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.move_button.setMenu(self.move_menu)
        head.addWidget(self.move_button)
        lay.addLayout(head)
        self.aliases = ChipFlow()
        lay.addWidget(self.aliases)

        self.approvals = ApprovalsPanel(tokens)
        self.approvals.sig_approve_requested.connect(writes.approve)
        self.approvals.sig_revoke_requested.connect(writes.revoke)
        lay.addWidget(self.approvals)

        self.description = MarkdownCard(
            "Description", tokens, empty="*No description on this version.*", fitted=(36, 180)
        )
        self.description.editor.setMinimumHeight(160)
        self.description.sig_save_requested.connect(self._save_description)
        lay.addWidget(self.description)

        lay.addWidget(named(QLabel("Tags"), "sectionTitle"))
        self.tags = ChipFlow()
        self.tags.setAccessibleName("Version tags")
        lay.addWidget(self.tags)

        lay.addStretch(1)
        self.set_version(None)

    def set_version(self, version: ModelVersion | None) -> None:
        """Show ``version`` (None: nothing selected); an open description editor of the
        same version keeps its draft."""
        same = (
            version is not None
            and self.version is not None
            and version.version == self.version.version
        )
        self.version = version
        widget = self.widget()
        if widget is not None:
            for child in widget.findChildren(
                QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly
            ):
                if child is not self.heading:
                    child.setVisible(version is not None)
        if version is None:
            self.heading.setText("Select a version")
            self.heading.show()
            self.facts.setText("to see its description, tags and approvals")
            self.facts.show()
            return
        if not same and self.description.editing:
            self.description.finish_edit()
        self.heading.setText(f"v{version.version}")
        facts = [str(version.status).replace("_", " ").lower()]
        if version.created_at is not None:
            facts.append(f"created {relative_time(version.created_at)}")
        self.facts.setText("  ·  ".join(facts))
        self.facts.setToolTip(exact_time(version.created_at) if version.created_at else "")
        self.description.set_markdown(version.description)
        self.refresh()

    def refresh(self) -> None:
        """Redraw the parts that depend on write access."""
        version = self.version
        if version is None:
            return
        w = self._writes
        self.aliases.clear()
        for alias in sorted(version.aliases, key=lambda a: (a != "champion", a)):
            menu = QMenu(self)
            fill_menu(menu, w.alias_menu(alias, version.version))
            self.aliases.add(alias_pill(alias, version.version, menu))
        if not version.aliases:
            self.aliases.add(named(QLabel("No alias points here."), "muted"))
        self.description.set_edit_allowed(w.why_not(Capability.VERSION_DESCRIPTION))
        self.tags.clear()
        approval_tags = 0
        for key, value in sorted(version.tags.items()):
            if is_approval_tag(key):
                approval_tags += 1
                continue
            menu = QMenu(self)
            fill_menu(menu, w.tag_menu(key, value, version.version))
            self.tags.add(tag_chip(key, value, menu))
        v = version.version
        self.tags.add(
            add_chip(
                "Tag",
                w.why_not(Capability.VERSION_TAG),
                lambda: w.edit_tag(v),
                f"Add a tag to v{v}",
            )
        )
        aliases = w.detail.model.aliases if w.detail is not None else {}
        self.approvals.set_version(version, w.access, aliases)

    def _fill_move_menu(self) -> None:
        if self.version is not None:
            fill_menu(self.move_menu, self._writes.version_menu(self.version))

    def _save_description(self, text: str) -> None:
        if self.version is not None:
            self._writes.save_description(self.version.version, text, self.description)
