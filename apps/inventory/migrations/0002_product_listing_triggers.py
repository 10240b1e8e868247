"""Keep catalog_product.price/currency/in_stock exact on every write to variants and stock.

Statement-level triggers with transition tables: a bulk import of 100,000 variants refreshes its
products in one UPDATE, and a checkout's stock decrement touches the product row only when the
variant crosses zero (so a hot SKU does not also make its product row hot).
"""

from django.db import migrations

REFRESH = """
CREATE OR REPLACE FUNCTION shopfast_product_listing_refresh(product_ids bigint[]) RETURNS void
LANGUAGE sql AS $$
    UPDATE catalog_product AS p
       SET price = agg.price, currency = agg.currency, in_stock = agg.in_stock
      FROM (
        SELECT ids.id,
               (SELECT v.price FROM catalog_variant v
                 WHERE v.product_id = ids.id AND v.is_active ORDER BY v.price, v.id LIMIT 1) AS price,
               COALESCE((SELECT v.currency FROM catalog_variant v
                 WHERE v.product_id = ids.id AND v.is_active ORDER BY v.price, v.id LIMIT 1), '')
                 AS currency,
               -- Nested scalar subqueries with LIMIT 1, not EXISTS: an EXISTS here may become a
               -- hashed SubPlan that scans every variant and stock row per call when a bulk load
               -- has left the tables without statistics. These always run as index lookups.
               COALESCE((SELECT true FROM catalog_variant v
                          WHERE v.product_id = ids.id AND v.is_active
                            AND (SELECT true FROM inventory_stock s
                                  WHERE s.variant_id = v.id AND s.quantity > 0 LIMIT 1)
                          LIMIT 1), false) AS in_stock
          FROM (SELECT DISTINCT unnest(product_ids) AS id) AS ids
      ) AS agg
     WHERE p.id = agg.id
       AND (p.price, p.currency, p.in_stock) IS DISTINCT FROM (agg.price, agg.currency, agg.in_stock);
$$;

CREATE OR REPLACE FUNCTION shopfast_variant_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM shopfast_product_listing_refresh(ARRAY(SELECT product_id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM shopfast_product_listing_refresh(ARRAY(SELECT product_id FROM old_rows));
    ELSE
        PERFORM shopfast_product_listing_refresh(ARRAY(
            SELECT n.product_id FROM new_rows n JOIN old_rows o ON o.id = n.id
             WHERE (n.price, n.currency, n.is_active, n.product_id)
                   IS DISTINCT FROM (o.price, o.currency, o.is_active, o.product_id)
            UNION SELECT o.product_id FROM new_rows n JOIN old_rows o ON o.id = n.id
             WHERE n.product_id <> o.product_id));
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION shopfast_stock_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM shopfast_product_listing_refresh(ARRAY(
            SELECT v.product_id FROM new_rows s JOIN catalog_variant v ON v.id = s.variant_id
             WHERE s.quantity > 0));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM shopfast_product_listing_refresh(ARRAY(
            SELECT v.product_id FROM old_rows s JOIN catalog_variant v ON v.id = s.variant_id
             WHERE s.quantity > 0));
    ELSE
        -- Only a crossing of zero (or a moved row) can change a product's in_stock.
        PERFORM shopfast_product_listing_refresh(ARRAY(
            SELECT v.product_id
              FROM new_rows n JOIN old_rows o ON o.id = n.id
              JOIN catalog_variant v ON v.id IN (n.variant_id, o.variant_id)
             WHERE (n.quantity > 0) <> (o.quantity > 0) OR n.variant_id <> o.variant_id));
    END IF;
    RETURN NULL;
END $$;
"""

TRIGGERS = [
    ("catalog_variant", "shopfast_variant_changed", "INSERT", "NEW TABLE AS new_rows"),
    (
        "catalog_variant",
        "shopfast_variant_changed",
        "UPDATE",
        "NEW TABLE AS new_rows OLD TABLE AS old_rows",
    ),
    ("catalog_variant", "shopfast_variant_changed", "DELETE", "OLD TABLE AS old_rows"),
    ("inventory_stock", "shopfast_stock_changed", "INSERT", "NEW TABLE AS new_rows"),
    (
        "inventory_stock",
        "shopfast_stock_changed",
        "UPDATE",
        "NEW TABLE AS new_rows OLD TABLE AS old_rows",
    ),
    ("inventory_stock", "shopfast_stock_changed", "DELETE", "OLD TABLE AS old_rows"),
]


def _trigger_name(table: str, event: str) -> str:
    return f"{table}_listing_{event.lower()}"


CREATE_TRIGGERS = "\n".join(
    f"CREATE TRIGGER {_trigger_name(t, e)} AFTER {e} ON {t} REFERENCING {ref} "
    f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}();"
    for t, fn, e, ref in TRIGGERS
)
DROP_TRIGGERS = "\n".join(
    f"DROP TRIGGER IF EXISTS {_trigger_name(t, e)} ON {t};" for t, _, e, _ in TRIGGERS
)
DROP_FUNCTIONS = """
DROP FUNCTION IF EXISTS shopfast_stock_changed();
DROP FUNCTION IF EXISTS shopfast_variant_changed();
DROP FUNCTION IF EXISTS shopfast_product_listing_refresh(bigint[]);
"""


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial"), ("catalog", "0001_initial")]

    operations = [
        migrations.RunSQL(REFRESH + CREATE_TRIGGERS, DROP_TRIGGERS + DROP_FUNCTIONS),
    ]
