"""The Backends page: every configured registry, cluster and metrics source as a card,
with add / edit / remove dialogs and "Test connection" inline. ``page.BackendsPage``
is the page."""
