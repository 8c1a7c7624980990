"""Pages mounted by the main window."""
