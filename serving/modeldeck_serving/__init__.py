"""Code a Ray Serve cluster imports to serve MLflow models for Modeldeck (never imported
by the desktop app)."""
