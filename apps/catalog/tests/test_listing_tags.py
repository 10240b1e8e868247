"""catalog_product.tag_slugs follows every change of a product's tags, sorted (the triggers)."""

from django.db import connection

from apps.catalog.models import Product, Tag
from apps.catalog.tests.factories import ProductFactory, TagFactory


def slugs_of(product: Product) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tag_slugs FROM catalog_product WHERE id = %s", [product.pk])
        return cursor.fetchone()[0]


def test_tags_added_in_any_order_are_kept_sorted(db):
    product = ProductFactory()
    product.tags.add(TagFactory(slug="sale"), TagFactory(slug="eco"), TagFactory(slug="new"))

    assert slugs_of(product) == ["eco", "new", "sale"]


def test_a_removed_tag_leaves_and_the_last_one_leaves_an_empty_list(db):
    product = ProductFactory()
    eco, sale = TagFactory(slug="eco"), TagFactory(slug="sale")
    product.tags.add(eco, sale)

    product.tags.remove(sale)
    assert slugs_of(product) == ["eco"]
    product.tags.clear()
    assert slugs_of(product) == []


def test_a_renamed_tag_is_renamed_on_every_product_that_carries_it(db):
    first, second, other = ProductFactory(), ProductFactory(), ProductFactory()
    old = TagFactory(slug="zzz-old")
    first.tags.add(old, TagFactory(slug="mid"))
    second.tags.add(old)
    other.tags.add(TagFactory(slug="kept"))

    Tag.objects.filter(pk=old.pk).update(slug="aaa-new")

    assert slugs_of(first) == ["aaa-new", "mid"]
    assert slugs_of(second) == ["aaa-new"]
    assert slugs_of(other) == ["kept"]


def test_a_deleted_tag_leaves_its_products(db):
    product = ProductFactory()
    gone = TagFactory(slug="gone")
    product.tags.add(gone, TagFactory(slug="stays"))

    gone.delete()

    assert slugs_of(product) == ["stays"]


def test_a_product_created_by_sql_without_the_column_gets_an_empty_list(db):
    product = ProductFactory()
    assert slugs_of(product) == []
