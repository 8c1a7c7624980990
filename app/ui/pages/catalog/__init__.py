"""The Catalog page: search, facets, the table of every cached model, and the model page
and version compare it opens. ``page.CatalogPage`` is the page."""
