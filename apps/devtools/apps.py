from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    """Demo data, the one-command ``serve`` and the migration lint: dev, test and perf only."""

    name = "apps.devtools"
    label = "devtools"
