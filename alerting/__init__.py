"""Alerts to the operator's phone: the rules, deduplication and daily figures (pure), and the
apprise adapter that reaches the destinations named in ``ALERT_URLS``."""
