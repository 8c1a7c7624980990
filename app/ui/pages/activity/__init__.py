"""The Activity page: the audit trail, newest first."""
