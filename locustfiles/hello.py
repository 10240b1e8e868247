"""The ceiling: a hello-world view through the same app server, client and settings.

    locust -f locustfiles/hello.py --host http://127.0.0.1:8000   (perf.settings_perf serves it)

The perf gate expresses throughput floors as fractions of what this reaches in the same run.
"""

from locust import FastHttpUser, task

from locustfiles.common import expect


class HelloUser(FastHttpUser):
    @task
    def hello(self) -> None:
        with self.client.get("/perf/hello/", name="hello", catch_response=True) as response:
            expect(response, 200)
