"""Contract tests: one base class per adapter role, subclassed once per adapter.

* ``catalog.CatalogSourceContract`` — ``app.adapters.catalog.CatalogSource``
* ``deploy.DeploymentTargetContract`` — ``app.adapters.targets.DeploymentTarget``
* ``metrics.MetricsSourceContract`` — ``app.adapters.metrics.MetricsSource``

The bases hold the tests; a subclass (``tests/integration/test_contract_*.py``) gives
them a connected adapter and the known state of a real server. ``wiring`` builds the
adapters the way the services do, so a contract tests what a user runs.
"""
