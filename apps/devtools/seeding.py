"""Generate a realistic, deterministic demo catalog and insert it batch by batch.

Every product is derived from ``(seed, index)`` alone (its own ``random.Random``), and every row
has a natural key built from them (product slug, variant SKU), so inserting with
``ignore_conflicts`` makes a rerun a no-op and a larger ``products`` only adds the missing tail,
whatever the batch size.
"""

# Word lists stay as split strings: one literal per word would triple the module's length.
# ruff: noqa: SIM905

from __future__ import annotations

import math
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.db import connection, reset_queries, transaction
from django.utils.text import slugify

from apps.catalog.models import Category, Product, Tag, Variant
from apps.inventory.models import Stock, Warehouse

DEFAULT_SEED = 42
DEFAULT_BATCH_SIZE = 1000
# created_at is spread over the year before this anchor (shifted by the seed), never now():
# a rerun must write identical rows.
ANCHOR = datetime(2025, 1, 1, tzinfo=UTC)
MIN_PRICE, MAX_PRICE = Decimal("1.00"), Decimal("500.00")
CENT = Decimal("0.01")

# One line per leaf: "Root > Child [> Grandchild]: product nouns sold there". Names are unique,
# so each category's slug is its slugified name.
CATEGORIES = """
Apparel > Shoes > Running: running shoes|trail running shoes|racing flats|running trainers
Apparel > Shoes > Hiking: hiking boots|approach shoes|trekking boots
Apparel > Shoes > Casual: leather sneakers|canvas sneakers|suede loafers|chelsea boots
Apparel > Jackets: rain jacket|down jacket|softshell jacket|leather jacket|running jacket
Apparel > Tops > T-Shirts: t-shirt|running tee|polo shirt
Apparel > Tops > Sweaters: merino sweater|hoodie|cardigan
Apparel > Trousers: chinos|jeans|running tights|cargo trousers
Electronics > Audio > Headphones: wireless headphones|wireless earbuds|studio headphones
Electronics > Audio > Speakers: wireless speaker|bookshelf speakers|soundbar
Electronics > Computers > Laptops: laptop|ultrabook|gaming laptop
Electronics > Computers > Peripherals: wireless mouse|mechanical keyboard|webcam|monitor
Electronics > Phones: smartphone|phone case|wireless charger
Electronics > Cameras: mirrorless camera|action camera|camera lens
Home & Kitchen > Cookware: frying pan|dutch oven|chef knife|saucepan
Home & Kitchen > Furniture > Chairs: office chair|dining chair|lounge chair
Home & Kitchen > Furniture > Tables: coffee table|standing desk|side table
Home & Kitchen > Bedding: duvet cover|pillow|linen sheets
Home & Kitchen > Lighting: desk lamp|floor lamp|pendant light
Sports & Outdoors > Camping > Tents: backpacking tent|family tent
Sports & Outdoors > Camping > Sleeping Bags: down sleeping bag|synthetic sleeping bag
Sports & Outdoors > Cycling: bike helmet|cycling jersey|bike light
Sports & Outdoors > Fitness: yoga mat|kettlebell|resistance bands|running belt
Sports & Outdoors > Water Sports: paddle board|wetsuit|dry bag
Beauty > Skincare: face cream|serum|sunscreen
Beauty > Haircare: shampoo|conditioner|hair oil
Beauty > Fragrance: eau de parfum|body mist
Toys & Games > Board Games: strategy game|family board game|card game
Toys & Games > Building Sets: building set|construction kit
Toys & Games > Puzzles: jigsaw puzzle|puzzle box
Books > Fiction: novel|short story collection
Books > Cookbooks: cookbook|baking book
Books > Travel Guides: travel guide|hiking guide|city atlas
Bags & Accessories > Backpacks: hiking backpack|laptop backpack|running vest
Bags & Accessories > Wallets: leather wallet|card holder
Bags & Accessories > Watches: running watch|smartwatch|leather strap watch
Bags & Accessories > Sunglasses: sunglasses|sport sunglasses
"""
# Root -> (base price range, materials, features) of the products under it.
ROOTS = {
    "Apparel": ((8, 250), "cotton|merino wool|nylon|leather|suede|recycled polyester|linen",
                "breathable fabric|reinforced seams|a water-resistant finish|quick-dry fabric|"
                "reflective details|a relaxed fit"),
    "Electronics": ((15, 450), "aluminium|recycled plastic|glass|stainless steel",
                    "wireless connectivity|a long-lasting battery|noise cancelling|fast charging|"
                    "Bluetooth 5.3|a two-year warranty"),
    "Home & Kitchen": ((5, 400), "oak|walnut|cast iron|stainless steel|ceramic|linen|cotton",
                       "a lifetime warranty|dishwasher-safe parts|a natural oil finish|"
                       "an induction-ready base|easy assembly"),
    "Sports & Outdoors": ((5, 450), "nylon|ripstop polyester|aluminium|recycled rubber|steel",
                          "a water-resistant finish|adjustable straps|a non-slip grip|"
                          "reflective details|a packable design"),
    "Beauty": ((1.2, 120), "organic aloe|shea butter|argan oil|vitamin C|hyaluronic acid",
               "a vegan formula|recyclable packaging|no added fragrance|dermatologist testing"),
    "Toys & Games": ((5, 150), "wood|recycled plastic|cardboard|bamboo",
                     "room for 2-6 players|a 30-minute playtime|rules in five languages|"
                     "non-toxic paints"),
    "Books": ((4, 60), "paperback|hardcover|linen binding",
              "full-colour photographs|a foreword by the author|an illustrated map|"
              "recipes for every season"),
    "Bags & Accessories": ((10, 450), "leather|canvas|nylon|suede|recycled polyester|steel",
                           "a padded laptop sleeve|RFID blocking|a scratch-resistant face|"
                           "a water-resistant finish|adjustable straps"),
}  # fmt: skip
BRANDS = (
    "Northpeak Alder Vireo Kestrel Lumen Oakridge Solace Tidewater Brixton Halden Corvo Meridian "
    "Fjordline Sable Aurora Granite Willow Ember"
).split()
LINES = "Pro Ultra Lite Classic Edge Air Max Flow Core Trail Urban Essential Prime".split()
ADJECTIVES = (
    "lightweight durable breathable waterproof compact ergonomic premium versatile handcrafted "
    "minimalist rugged comfortable"
).split()
COLORS = "black white navy grey olive red blue green sand charcoal".split()
USES = (
    "everyday use|long runs|weekend hikes|the daily commute|travel|the home office|"
    "outdoor adventures|gifting|training sessions|cold mornings"
).split("|")
COUNTRIES = "Portugal Italy Germany Vietnam Japan Poland Sweden Spain".split()
TAG_NAMES = (
    "New Arrival|Bestseller|Sale|Limited Edition|Eco Friendly|Vegan|Organic|Handmade|Gift Idea|"
    "Waterproof|Wireless|Leather|Running|Outdoor|Travel|Kids|Unisex|Premium|Budget|Lightweight|"
    "Recycled|Fair Trade|Made in Europe|Winter|Summer|Home Office|Fitness|Camping|Cycling|Vintage|"
    "Minimalist|Smart|Durable|Compact|Classic|Staff Pick|Trending|Back in Stock|Exclusive|Bundle"
).split("|")
WAREHOUSES = (
    ("eu-central", "Frankfurt", 10),
    ("eu-west", "Dublin", 20),
    ("us-east", "Virginia", 30),
    ("ap-southeast", "Singapore", 40),
)
VARIANT_AXES = {
    "shoe": [f"EU {n}" for n in range(38, 47)],
    "size": "XS S M L XL XXL".split(),
    "storage": "64 GB|128 GB|256 GB|512 GB|1 TB".split("|"),
    "volume": "30 ml|50 ml|100 ml|200 ml|500 ml".split("|"),
    "format": "Paperback|Hardcover|E-book|Audiobook|Large Print".split("|"),
    "color": [c.title() for c in COLORS],
}
# A bigger variant costs more (up to the base price); sizes, colours and formats only jitter.
ORDERED_AXES = {"storage", "volume"}
CURRENCIES = (("EUR", 90), ("USD", 7), ("GBP", 3))


@dataclass(frozen=True)
class Leaf:
    category_id: int
    root: str
    nouns: tuple[str, ...]
    axis: str


@dataclass(frozen=True)
class SeedResult:
    """Rows the run ensured exist, how many of them it newly inserted, and how long it took."""

    products: int
    variants: int
    stocks: int
    tag_links: int
    created: dict[str, int]
    seconds: float

    @property
    def products_per_second(self) -> float:
        return self.products / self.seconds if self.seconds else 0.0


class Generated(NamedTuple):
    """One product with its variants, (sku, warehouse id, quantity) stock rows and tag ids."""

    product: Product
    variants: list[Variant]
    stocks: list[tuple[str, int, int]]
    tag_ids: list[int]


Progress = Callable[[int, int], None]


def category_tree() -> dict[tuple[str, ...], str]:
    """Map each category's trail of names to its nouns ("" for inner nodes), parents first."""
    nodes: dict[tuple[str, ...], str] = {}
    for line in CATEGORIES.strip().splitlines():
        trail, nouns = line.split(": ")
        names = tuple(trail.split(" > "))
        for depth in range(1, len(names)):
            nodes.setdefault(names[:depth], "")
        nodes[names] = nouns
    return nodes


def _variant_axis(names: tuple[str, ...]) -> str:
    if "Shoes" in names:
        return "shoe"
    if names[-1] in ("Laptops", "Phones"):
        return "storage"
    by_root = {"Apparel": "size", "Beauty": "volume", "Books": "format"}
    return by_root.get(names[0], "color")


def catalog_seed_reference_data() -> tuple[list[Leaf], list[int], list[int]]:
    """Ensure the category tree, tags and warehouses exist; return leaves, tag and warehouse ids."""
    tree = category_tree()
    stored: dict[tuple[str, ...], tuple[int, str, int]] = {}  # trail -> (id, path, depth)
    for depth in range(max(map(len, tree))):
        level = [names for names in tree if len(names) == depth + 1]
        positions: Counter[tuple[str, ...]] = Counter()
        batch = []
        for names in level:
            # bulk_create skips Category.save(): derive path/depth from the parent as stored.
            parent_id, parent_path, _ = stored.get(names[:-1], (None, None, None))
            slug = slugify(names[-1])
            batch.append(Category(
                name=names[-1], slug=slug, parent_id=parent_id, depth=depth,
                path=Category.build_path(parent_path, slug), position=positions[names[:-1]],
            ))  # fmt: skip
            positions[names[:-1]] += 1
        Category.objects.bulk_create(batch, ignore_conflicts=True)
        rows = Category.objects.filter(slug__in=[c.slug for c in batch])
        by_slug = {slug: (pk, path, d) for slug, pk, path, d in rows.values_list(
            "slug", "id", "path", "depth")}  # fmt: skip
        stored.update((names, by_slug[slugify(names[-1])]) for names in level)
    leaves = [
        Leaf(stored[names][0], names[0], tuple(nouns.split("|")), _variant_axis(names))
        for names, nouns in tree.items()
        if nouns
    ]
    tags = [Tag(name=name, slug=slugify(name)) for name in TAG_NAMES]
    Tag.objects.bulk_create(tags, ignore_conflicts=True)
    tag_ids = dict(Tag.objects.filter(slug__in=[t.slug for t in tags]).values_list("slug", "id"))
    houses = [Warehouse(code=code, name=name, priority=p) for code, name, p in WAREHOUSES]
    Warehouse.objects.bulk_create(houses, ignore_conflicts=True)
    house_ids = dict(
        Warehouse.objects.filter(code__in=[w.code for w in houses]).values_list("code", "id")
    )
    return leaves, [tag_ids[t.slug] for t in tags], [house_ids[w.code] for w in houses]


def _price(value: float) -> Decimal:
    return min(max(Decimal(value).quantize(CENT), MIN_PRICE), MAX_PRICE)


def _product_rows(
    seed: int, index: int, leaves: list[Leaf], tag_ids: list[int], house_ids: list[int]
) -> Generated:
    """Build one product, its variants, stock quantities and tag ids from (seed, index) alone."""
    rng = random.Random(f"{seed}:{index}")  # str seeds hash with SHA-512: stable across processes
    leaf = rng.choice(leaves)
    (low, high), materials, features = ROOTS[leaf.root]
    noun, brand, line = rng.choice(leaf.nouns), rng.choice(BRANDS), rng.choice(LINES)
    name = f"{brand} {line} {noun.title()}"
    material, color = rng.choice(materials.split("|")), rng.choice(COLORS)
    origin = rng.choice(COUNTRIES)
    sentences = [
        f"A {rng.choice(ADJECTIVES)} {noun} in {material}, made for {rng.choice(USES)}.",
        "Comes with {} and {}.".format(*rng.sample(features.split("|"), 2)),
        f"Finished in {color} and made in {origin}.",
    ]
    product = Product(
        slug=f"{slugify(name)}-s{seed}-{index:07d}",
        name=name,
        description=" ".join(sentences[: rng.randint(1, 3)]),
        category_id=leaf.category_id,
        attributes={
            "brand": brand,
            "material": material,
            "color": color,
            "weight_g": rng.randrange(50, 5000, 10),
            "origin": origin,
        },
        is_active=rng.random() >= 0.03,
        created_at=ANCHOR + timedelta(days=seed % 365, seconds=-rng.randrange(365 * 86400)),
    )
    currency = rng.choices([c for c, _ in CURRENCIES], [w for _, w in CURRENCIES])[0]
    base = math.exp(rng.uniform(math.log(low), math.log(high)))
    axis = VARIANT_AXES[leaf.axis]
    picks = sorted(rng.sample(range(len(axis)), rng.randint(2, 5)))
    steps = 1 + 0.35 * (len(picks) - 1) if leaf.axis in ORDERED_AXES else 0
    variants = [
        Variant(
            sku=f"S{seed}-{index:07d}-{pos + 1}",
            name=axis[pick],
            price=_price(base * ((1 + 0.35 * pos) / steps if steps else rng.uniform(0.9, 1.1))),
            currency=currency,
            position=pos,
        )
        for pos, pick in enumerate(picks)
    ]
    houses = rng.sample(house_ids, rng.randint(2, 3))
    sold_out = rng.random() < 0.10  # so that in_stock=false shows up in listings
    stocks = []
    for variant in variants:
        qty = [0 if sold_out or rng.random() < 0.2 else rng.randint(1, 250) for _ in houses]
        stocks.extend((variant.sku, house, q) for house, q in zip(houses, qty, strict=True))
    if not sold_out and not any(q for _, _, q in stocks):
        stocks[0] = (stocks[0][0], stocks[0][1], rng.randint(1, 50))
    tags = rng.sample(tag_ids, rng.choices(range(5), [25, 30, 25, 12, 8])[0])
    return Generated(product, variants, stocks, tags)


def _insert_batch(rows: list[Generated]) -> None:
    """Insert the products that do not exist yet, each with its variants, stock and tag links."""
    # A batch commits whole, so an existing product already has all of its rows: skipping it
    # makes a rerun cheap. ignore_conflicts still covers a concurrent run of the same seed.
    slugs = [row.product.slug for row in rows]
    existing = set(Product.objects.filter(slug__in=slugs).values_list("slug", flat=True))
    rows = [row for row in rows if row.product.slug not in existing]
    if not rows:
        return
    products = [row.product for row in rows]
    Product.objects.bulk_create(products, ignore_conflicts=True)
    product_ids = dict(
        Product.objects.filter(slug__in=[p.slug for p in products]).values_list("slug", "id")
    )
    variants = []
    for row in rows:
        for variant in row.variants:
            variant.product_id = product_ids[row.product.slug]
            variants.append(variant)
    Variant.objects.bulk_create(variants, ignore_conflicts=True)
    variant_ids = dict(
        Variant.objects.filter(sku__in=[v.sku for v in variants]).values_list("sku", "id")
    )
    stocks = [
        Stock(variant_id=variant_ids[sku], warehouse_id=house, quantity=qty)
        for row in rows
        for sku, house, qty in row.stocks
    ]
    Stock.objects.bulk_create(stocks, ignore_conflicts=True)
    through = Product.tags.through
    links = [
        through(product_id=product_ids[row.product.slug], tag_id=tag_id)
        for row in rows
        for tag_id in row.tag_ids
    ]
    through.objects.bulk_create(links, ignore_conflicts=True)


def _analyze() -> None:
    """Refresh planner statistics of the tables the seeding grows."""
    models = (Category, Tag, Product, Product.tags.through, Variant, Stock)
    tables = [m._meta.db_table for m in models]
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(map(connection.ops.quote_name, tables))}")


def _counts() -> dict[str, int]:
    models = {"products": Product, "variants": Variant, "stocks": Stock}
    counts = {name: model.objects.count() for name, model in models.items()}
    return counts | {"tag_links": Product.tags.through.objects.count()}


def catalog_seed(
    products: int,
    seed: int = DEFAULT_SEED,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
) -> SeedResult:
    """Ensure products 1..``products`` of ``seed`` exist, generating and inserting by batch."""
    if products < 0 or seed < 0 or batch_size < 1:
        raise ValueError("products and seed must be >= 0 and batch_size >= 1")
    started = time.perf_counter()
    before = _counts()
    with transaction.atomic():
        leaves, tag_ids, house_ids = catalog_seed_reference_data()
    variants = stocks = links = analyzed = 0
    for start in range(1, products + 1, batch_size):
        stop = min(start + batch_size, products + 1)
        rows = [_product_rows(seed, i, leaves, tag_ids, house_ids) for i in range(start, stop)]
        # One transaction per batch, not per run: a batch is never half-written, locks stay
        # short, and an interrupted run resumes where it stopped.
        with transaction.atomic():
            _insert_batch(rows)
        variants += sum(len(row.variants) for row in rows)
        stocks += sum(len(row.stocks) for row in rows)
        links += sum(len(row.tag_ids) for row in rows)
        # DEBUG settings keep every executed SQL (megabytes per batch): keep memory bounded.
        reset_queries()
        # The listing triggers' plans go quadratic on stale statistics (a never-analyzed
        # catalog_variant turns their EXISTS into full-table merge joins), and autovacuum lags
        # behind a bulk load: analyze each time this run has doubled the products it processed.
        if stop - 1 >= 2 * analyzed:
            _analyze()
            analyzed = stop - 1
        if progress:
            progress(stop - 1, products)
    _analyze()  # so that EXPLAIN right after seeding shows the plans production would get
    after = _counts()
    return SeedResult(
        products=products,
        variants=variants,
        stocks=stocks,
        tag_links=links,
        created={name: after[name] - before[name] for name in after},
        seconds=time.perf_counter() - started,
    )
