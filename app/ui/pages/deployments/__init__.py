"""The Deployments page (every app on every target, as last seen) and the Deploy dialog."""
