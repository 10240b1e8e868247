from django.apps import AppConfig, apps


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"

    def ready(self) -> None:
        from apps.core import checks, converters  # noqa: F401  register checks, URL converters
        from apps.core.caching import remote
        from apps.core.caching.orm import orm_invalidate_all

        remote.after_outage(orm_invalidate_all)
        if apps.is_installed("silk"):  # PROFILING=1
            from apps.core.profiling import profiling_connect

            profiling_connect()
