"""Settings from the environment and ``.env``, validated at start-up."""

from config.settings import ConfigError, Settings, load_settings

__all__ = ["ConfigError", "Settings", "load_settings"]
