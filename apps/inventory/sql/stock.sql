-- Stock writes as server-side functions: one round trip, plans cached per connection (safe behind
-- pgbouncer in transaction mode: nothing is prepared by the client). Created by the migration
-- inventory/0006; apps/inventory/services.py is the one Python door to them.
--
-- Lock order: every stock row a statement will change is locked first, ORDER BY id, as
-- apps/inventory/locks.py does; so these functions and the Python paths never deadlock.

-- Stock of each line that is not there now, read without a lock: turns a sold-out SKU away
-- before its hot rows are touched. NULL when every line can be served.
CREATE OR REPLACE FUNCTION inventory_stock_short(
    p_variant_ids bigint[], p_quantities integer[], p_skus text[]
) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_result jsonb;
BEGIN
    SELECT jsonb_agg(jsonb_build_object('sku', d.sku, 'requested', d.demand,
                                        'available', d.available) ORDER BY d.ord)
      INTO v_result
      FROM (SELECT d.ord, d.sku, d.demand,
                   coalesce((SELECT sum(greatest(s.quantity, 0)) FROM inventory_stock s
                              WHERE s.variant_id = d.variant_id), 0)::integer AS available
              FROM unnest(p_variant_ids, p_quantities, p_skus)
                   WITH ORDINALITY AS d(variant_id, demand, sku, ord)) AS d
     WHERE d.available < d.demand;
    RETURN v_result;
END;
$$;

-- Take p_quantities[i] units of variant p_variant_ids[i] for order p_order_id: from each
-- variant's warehouses by priority, then the older row, splitting a line where one row is short.
-- Returns {"units": {"<stock id>": units taken}, "crossed_zero": whether a row reached zero}.
-- Raises 'insufficient_stock' (SQLSTATE P0001) with the short lines as JSON in DETAIL, having
-- changed nothing.
CREATE OR REPLACE FUNCTION inventory_stock_allocate(
    p_order_id bigint, p_variant_ids bigint[], p_quantities integer[], p_skus text[]
) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_short jsonb;
    v_result jsonb;
BEGIN
    PERFORM 1 FROM inventory_stock WHERE variant_id = ANY (p_variant_ids) ORDER BY id FOR UPDATE;

    v_short := inventory_stock_short(p_variant_ids, p_quantities, p_skus);
    IF v_short IS NOT NULL THEN
        RAISE EXCEPTION 'insufficient_stock' USING DETAIL = v_short::text;
    END IF;

    WITH demand AS (
        SELECT * FROM unnest(p_variant_ids, p_quantities) AS d(variant_id, quantity)
    ), ranked AS (
        SELECT s.id, greatest(s.quantity, 0) AS quantity, d.quantity AS demand,
               coalesce(sum(greatest(s.quantity, 0)) OVER (
                   PARTITION BY s.variant_id ORDER BY w.priority, s.id
                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
          FROM inventory_stock s
          JOIN inventory_warehouse w ON w.id = s.warehouse_id
          JOIN demand d ON d.variant_id = s.variant_id
    ), taken AS (
        SELECT id, least(quantity, demand - before)::integer AS units
          FROM ranked WHERE quantity > 0 AND demand > before
    ), changed AS (
        UPDATE inventory_stock s SET quantity = s.quantity - t.units
          FROM taken t WHERE s.id = t.id
        RETURNING s.id, s.quantity, t.units
    ), logged AS (
        INSERT INTO inventory_stockmovement (stock_id, delta, reason, order_id)
        SELECT id, -units, 'sale', p_order_id FROM changed
    )
    SELECT jsonb_build_object(
               'units', coalesce(jsonb_object_agg(id::text, units), '{}'::jsonb),
               'crossed_zero', coalesce(bool_or(quantity = 0), false))
      INTO v_result FROM changed;
    RETURN v_result;
END;
$$;

-- Give back every unit the orders p_order_ids took, to the rows they came from, logged with
-- p_reason (one statement for a batch of expired reservations). The caller makes it once (the
-- orders' row locks and statuses); the partial unique index stockmove_one_return_per_row refuses
-- a second return in any case.
-- Returns {"units": {stock id: units}, "crossed_zero": ..., "product_slugs": [...]}.
CREATE OR REPLACE FUNCTION inventory_stock_release_orders(p_order_ids bigint[], p_reason text)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_result jsonb;
BEGIN
    PERFORM 1 FROM inventory_stock
     WHERE id IN (SELECT stock_id FROM inventory_stockmovement
                   WHERE order_id = ANY (p_order_ids) AND reason = 'sale')
     ORDER BY id FOR UPDATE;

    WITH returned AS (
        SELECT stock_id, order_id, -sum(delta)::integer AS units FROM inventory_stockmovement
         WHERE order_id = ANY (p_order_ids) AND reason = 'sale' GROUP BY stock_id, order_id
    ), per_row AS (
        SELECT stock_id AS id, sum(units)::integer AS units FROM returned GROUP BY stock_id
    ), changed AS (
        UPDATE inventory_stock s SET quantity = s.quantity + r.units
          FROM per_row r WHERE s.id = r.id
        RETURNING s.id, s.quantity, s.variant_id, r.units
    ), logged AS (
        INSERT INTO inventory_stockmovement (stock_id, delta, reason, order_id)
        SELECT stock_id, units, p_reason, order_id FROM returned
    )
    SELECT jsonb_build_object(
               'units', coalesce(jsonb_object_agg(c.id::text, c.units), '{}'::jsonb),
               'crossed_zero', coalesce(bool_or(c.quantity = c.units), false),
               'product_slugs', coalesce(jsonb_agg(DISTINCT p.slug), '[]'::jsonb))
      INTO v_result
      FROM changed c
      JOIN catalog_variant v ON v.id = c.variant_id
      JOIN catalog_product p ON p.id = v.product_id;
    RETURN v_result;
END;
$$;
