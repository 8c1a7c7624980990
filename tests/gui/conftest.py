"""GUI tests: offscreen screen, theme and QApplication come from tests/conftest.py."""
