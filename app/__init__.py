"""Modeldeck: a desktop control center for ML models in production."""

__version__ = "0.1.0"

#: Reverse-DNS application id, used for the desktop file, the data/config/log
#: directories and the keyring service name.
APP_ID = "io.modeldeck.Modeldeck"
APP_NAME = "Modeldeck"
