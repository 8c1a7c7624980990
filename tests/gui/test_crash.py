"""The one error path: expected errors reach the page as they are; a bug is logged with
its traceback, shown in the crash dialog, and the page still gets one readable line."""

from __future__ import annotations

import logging
import sys
import threading

import pytest
from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QGuiApplication

from app.domain.errors import ConfigError, InternalError
from app.ui.crash import CrashHandler
from app.ui.tasks import TaskRunner


def _buggy_service_call() -> None:
    settings: dict[str, str] = {}
    settings["missing-key"].upper()  # a bug: KeyError deep in a service


def _expected_failure() -> None:
    raise ConfigError("settings.toml: [health] interval must be a number")


@pytest.fixture
def runner(qtbot):
    r = TaskRunner()
    yield r
    r.shutdown()


def test_a_bug_in_a_task_is_logged_reported_and_shown_readably(qtbot, runner, caplog, tmp_path):
    crashes = CrashHandler(tmp_path / "modeldeck.log")
    runner.sig_crashed.connect(crashes.task_crashed)
    errors: list[BaseException] = []
    with (
        caplog.at_level(logging.ERROR, logger="app"),
        qtbot.waitSignal(runner.sig_crashed, timeout=5000) as crashed,
    ):
        runner.run(_buggy_service_call, name="Sync mlflow-prod", on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)

    # the page gets one line it can show, naming the task, with the bug as its cause
    assert isinstance(errors[0], InternalError)
    assert "Sync mlflow-prod failed unexpectedly (KeyError" in str(errors[0])
    assert isinstance(errors[0].__cause__, KeyError)
    assert crashed.args[0] == "Sync mlflow-prod"

    # the log has the traceback, down to the function that failed
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Traceback" in logged
    assert "_buggy_service_call" in logged

    # the crash dialog shows it and copies the details
    dialog = crashes.dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    assert "KeyError" in dialog.summary.text()
    assert "Sync mlflow-prod" in dialog.summary.text()
    assert "_buggy_service_call" in dialog.details.toPlainText()
    assert str(tmp_path / "modeldeck.log") in dialog.hint.text()
    dialog.copy_button.click()
    assert "_buggy_service_call" in QGuiApplication.clipboard().text()
    dialog.close()


def test_an_expected_error_reaches_the_page_unchanged_and_is_no_crash(qtbot, runner):
    crashed: list[object] = []
    runner.sig_crashed.connect(lambda name, exc: crashed.append(exc))
    errors: list[BaseException] = []
    runner.run(_expected_failure, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert isinstance(errors[0], ConfigError)
    assert not isinstance(errors[0], InternalError)
    assert str(errors[0]) == "settings.toml: [health] interval must be a number"
    assert crashed == []


def test_repeated_crashes_share_one_dialog(qtbot, tmp_path, caplog):
    crashes = CrashHandler(tmp_path / "modeldeck.log")
    with caplog.at_level(logging.CRITICAL, logger="app"):
        for i in range(3):
            try:
                raise ValueError(f"bad value {i}")
            except ValueError as exc:
                crashes.excepthook(type(exc), exc, exc.__traceback__)
    qtbot.waitUntil(lambda: crashes.dialog is not None and crashes.dialog.isVisible())
    dialog = crashes.dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: len(dialog.reports) == 3)
    assert "3 errors so far" in dialog.summary.text()
    assert dialog.details.toPlainText().count("ValueError: bad value") == 3
    dialog.close()


def test_excepthook_and_thread_hook_are_installed_and_removed(qtbot, tmp_path, caplog):
    crashes = CrashHandler(tmp_path / "modeldeck.log")
    before = (sys.excepthook, threading.excepthook)
    crashes.install()
    try:
        assert sys.excepthook == crashes.excepthook
        with caplog.at_level(logging.ERROR, logger="app"):
            worker = threading.Thread(target=_buggy_service_call, name="poller")
            worker.start()
            worker.join(5)
            qtbot.waitUntil(lambda: crashes.dialog is not None, timeout=5000)
        dialog = crashes.dialog
        assert dialog is not None
        assert "thread poller" in dialog.summary.text()
        assert any("poller" in r.getMessage() for r in caplog.records)
        dialog.close()
    finally:
        crashes.uninstall()
    assert (sys.excepthook, threading.excepthook) == before


def test_ctrl_c_in_the_terminal_is_no_crash(qtbot, tmp_path):
    crashes = CrashHandler(tmp_path / "modeldeck.log")
    exc = KeyboardInterrupt()
    crashes.excepthook(KeyboardInterrupt, exc, None)
    QCoreApplication.processEvents()  # a report would be queued: deliver what is queued
    assert crashes.dialog is None
