"""Adapters: one module per backend kind, httpx inside, each behind a small Protocol."""
