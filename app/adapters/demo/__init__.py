"""The demo workspace's simulated backends: in-process adapters over generated data.

Each plays one role behind the same Protocol as a real backend, so the services, the
CLI and the GUI use them exactly as they use MLflow, Ray Serve and Prometheus:

* ``catalog.DemoRegistry`` (kind ``demo-registry``) — a ``CatalogSource`` that hands
  out the generated catalog (the same one the demo cache was filled with) and
  answers run data;
* ``cluster.DemoCluster`` (kind ``demo-cluster``) — a ``DeploymentTarget`` whose
  apps live in the demo workspace's ``demo-world.json``, so the CLI and the GUI see
  one cluster; a deploy takes a few seconds (DEPLOYING → RUNNING), a broken version
  fails with a message;
* ``metrics.DemoMetrics`` (kind ``demo-metrics``) — a ``MetricsSource`` that answers
  the health service's PromQL with generated, plausible series, a function of
  wall-clock time (deterministic per app) and of what the demo cluster runs.

None of them opens a socket. Each refuses (``Unreachable``) when its workspace has no
demo state, e.g. a hand-copied entry in a real workspace's settings.
"""
