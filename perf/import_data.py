"""Write catalog, stock and price feed files of any size, deterministically, for import benchmarks.

Catalog rows come in products of 2-5 variants (4 on average) over a few dozen categories (half of
them new to the database, so the importer creates them) and 60 tags; stock and price rows cover
the catalog's SKUs. Each writer streams, so a million rows cost no memory.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from pathlib import Path

CATALOG_HEADER = (
    "sku",
    "product_slug",
    "product_name",
    "category_slug",
    "variant_name",
    "price",
    "currency",
    "description",
    "tags",
)
WAREHOUSES = ("eu-central", "eu-west", "us-east", "ap-southeast")
CATEGORIES = (
    "running",
    "hiking",
    "casual",
    "jackets",
    "t-shirts",
    "sweaters",
    "trousers",
    "headphones",
    "speakers",
    "laptops",
    "peripherals",
    "phones",
    "cameras",
    "cookware",
    "chairs",
    "tables",
    *(f"imported-line-{n:02d}" for n in range(16)),
)
TAGS = (
    *(f"feed-tag-{n:02d}" for n in range(50)),
    "Eco Friendly",
    "Made in Europe",
    "Staff Pick",
    "Back in Stock",
    "Gift Idea",
    "Winter",
    "Summer",
    "Vegan",
    "Bundle",
    "Limited Edition",
)
SIZES = ("XS", "S", "M", "L", "XL")
WORDS = (
    *("lightweight", "durable", "breathable", "waterproof", "compact", "ergonomic", "premium"),
    *("versatile", "handcrafted", "minimalist", "rugged", "comfortable", "cotton", "merino"),
    *("nylon", "leather", "recycled", "everyday", "travel", "outdoor"),
)


def variants_of(product: int) -> int:
    """How many variants product ``product`` has: 2, 3, 4, 5, 6, 4, 4, ... averaging 4."""
    return (2, 3, 4, 5, 6)[product % 5]


def catalog_skus(rows: int, prefix: str = "IMP") -> Iterator[str]:
    """Yield the SKUs of a ``rows``-row catalog file, in file order."""
    written = product = 0
    while written < rows:
        for variant in range(min(variants_of(product), rows - written)):
            yield f"{prefix}-{product:07d}-{variant}"
            written += 1
        product += 1


def write_catalog(path: Path, rows: int, *, seed: int = 1, prefix: str = "IMP") -> int:
    """Write a ``rows``-row catalog CSV; return the number of products."""
    rng = random.Random(seed)
    written = product = 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(CATALOG_HEADER)
        while written < rows:
            slug = f"{prefix.lower()}-product-{product:07d}"
            name = f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()} {product}"
            category = CATEGORIES[product % len(CATEGORIES)]
            description = " ".join(rng.choices(WORDS, k=rng.randint(8, 24))).capitalize() + "."
            tags = "|".join(rng.sample(TAGS, rng.randint(0, 4)))
            base = rng.randint(500, 50000)
            for variant in range(min(variants_of(product), rows - written)):
                out.writerow(
                    (
                        f"{prefix}-{product:07d}-{variant}",
                        slug,
                        name,
                        category,
                        SIZES[variant % len(SIZES)],
                        f"{(base + 250 * variant) / 100:.2f}",
                        "EUR",
                        description,
                        tags,
                    )
                )
                written += 1
            product += 1
    return product


def write_stock(path: Path, rows: int, *, skus: int, seed: int = 2, prefix: str = "IMP") -> None:
    """Write ``rows`` stock rows over the first ``skus`` catalog SKUs and the four warehouses."""
    rng = random.Random(seed)
    per_sku = -(-rows // skus)  # ceil: each SKU in that many warehouses
    if per_sku > len(WAREHOUSES):
        raise ValueError("more stock rows than SKU x warehouse pairs")
    written = 0
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("sku,warehouse,quantity\n")
        for sku in catalog_skus(skus, prefix):
            for house in WAREHOUSES[:per_sku]:
                if written == rows:
                    return
                handle.write(f"{sku},{house},{rng.randint(0, 500)}\n")
                written += 1


def write_prices(path: Path, rows: int, *, seed: int = 3, prefix: str = "IMP") -> None:
    """Write new prices for the first ``rows`` catalog SKUs."""
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("sku,price\n")
        for sku in catalog_skus(rows, prefix):
            handle.write(f"{sku},{rng.randint(100, 90000) / 100:.2f}\n")
