"""Anonymous browsing: categories, filtered lists and their next pages, search, detail, 304s.

    locust -f locustfiles/browse.py --host http://127.0.0.1:8000

Crawlers and shoppers alike: no think time unless ``LOCUST_WAIT_MAX`` sets one.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from locust import FastHttpUser, between, task

from locustfiles.common import API, catalog_sample, expect, think_time, user_rng

REMEMBERED = 50  # responses whose ETag a user keeps for conditional GETs


class BrowseUser(FastHttpUser):
    wait_time = between(0, think_time())

    def on_start(self) -> None:
        self.sample = catalog_sample(self.host)
        self.rng = user_rng("browse")
        self.etags: dict[str, str] = {}

    def _get(self, path: str, name: str, *statuses: int) -> object:
        with self.client.get(path, name=name, catch_response=True) as response:
            if expect(response, *statuses) and response.status_code == 200:
                etag = response.headers.get("ETag")
                if etag:
                    if len(self.etags) >= REMEMBERED:
                        self.etags.pop(next(iter(self.etags)))
                    self.etags[path] = etag
                return response.json()
        return None

    @task(5)
    def categories(self) -> None:
        self._get(f"{API}/categories/", "categories", 200)

    @task(20)
    def product_list(self) -> None:
        query = urlencode(self.sample.filters(self.rng))
        page = self._get(f"{API}/products/?{query}", "list", 200)
        if page and page["next"] and self.rng.random() < 0.3:
            parts = urlsplit(page["next"])
            self._get(f"{parts.path}?{parts.query}", "list:next", 200)

    @task(8)
    def search(self) -> None:
        params = {"q": self.rng.choice(self.sample.words)}
        if self.rng.random() < 0.3:
            params["ordering"] = "price"
        self._get(f"{API}/products/?{urlencode(params)}", "search", 200)

    @task(25)
    def detail(self) -> None:
        self._get(f"{API}/products/{self.rng.choice(self.sample.slugs)}/", "detail", 200)

    @task(1)
    def missing_detail(self) -> None:
        self._get(f"{API}/products/no-such-product-{self.rng.randrange(1000)}/", "detail:404", 404)

    @task(10)
    def conditional(self) -> None:
        """Revalidate a page seen before: 304 while it is current, 200 once it changed."""
        if not self.etags:
            return
        path, etag = self.rng.choice(list(self.etags.items()))
        headers = {"If-None-Match": etag}
        with self.client.get(
            path, name="conditional", headers=headers, catch_response=True
        ) as response:
            expect(response, 304, 200)
