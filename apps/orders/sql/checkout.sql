-- Checkout as two server-side statements: orders_order_place takes the stock and writes the
-- order, orders_order_settle records the payment's answer and the replayable response. The
-- payment provider is called between them, with no transaction open and no row locked. Created by
-- the migration orders/0002; apps/orders/services.py is the one Python door to them.
-- Refusals raise SQLSTATE P0001 with the error code as the message and its data as JSON in
-- DETAIL: the statement's transaction rolls back whole (no key claimed, no order, no stock taken).

-- The API's order JSON, keys in the API's order (json, not jsonb: jsonb would sort them).
CREATE OR REPLACE FUNCTION orders_order_json(p_order_id bigint) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_result json;
BEGIN
    SELECT json_build_object(
        'number', o.number,
        'status', o.status,
        'lines', (SELECT coalesce(json_agg(json_build_object(
                            'sku', l.sku, 'quantity', l.quantity,
                            'unit_price', l.unit_price::text, 'line_total', l.line_total::text)
                          ORDER BY l.id), '[]'::json)
                    FROM orders_orderline l WHERE l.order_id = o.id),
        'total', o.total::text,
        'currency', o.currency,
        -- As Python's isoformat(): microseconds only when there are some.
        'created_at', to_char(o.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
            || CASE WHEN extract(microseconds FROM o.created_at)::bigint % 1000000 = 0 THEN ''
                    ELSE to_char(o.created_at AT TIME ZONE 'UTC', '.US') END
            || 'Z')
      INTO v_result
      FROM orders_order o WHERE o.id = p_order_id;
    RETURN v_result;
END;
$$;

-- Claim the Idempotency-Key, write the order and its lines (from p_skus/p_quantities, or from
-- the user's cart when p_from_cart), take the bought lines out of the cart, then lock, re-check
-- and take the stock: the stock rows stay locked from that last step to the commit.
-- Returns {"taken": true} when the key is already claimed (the caller replays its answer), else
-- {"order_id", "key_id", "total", "currency", "crossed_zero", "product_slugs"}.
-- Raises: empty_cart, unknown_sku (DETAIL: the SKUs), currency_mismatch (DETAIL: the
-- currencies), insufficient_stock (DETAIL: the short lines).
CREATE OR REPLACE FUNCTION orders_order_place(
    p_user_id integer, p_key text, p_hash text, p_number text,
    p_skus text[], p_quantities integer[], p_from_cart boolean
) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_key_id bigint;
    v_order_id bigint;
    v_unknown jsonb;
    v_currencies jsonb;
    v_currency text;
    v_total numeric;
    v_variant_ids bigint[];
    v_short jsonb;
    v_stock jsonb;
    v_slugs jsonb;
BEGIN
    INSERT INTO orders_idempotencykey (user_id, key, request_hash, created_at)
    VALUES (p_user_id, p_key, p_hash, now())
    ON CONFLICT (user_id, key) DO NOTHING
    RETURNING id INTO v_key_id;
    IF v_key_id IS NULL THEN
        RETURN '{"taken": true}'::jsonb;
    END IF;

    IF p_from_cart THEN
        SELECT array_agg(v.sku ORDER BY l.created_at, l.id),
               array_agg(l.quantity ORDER BY l.created_at, l.id)
          INTO p_skus, p_quantities
          FROM cart_cartline l
          JOIN cart_cart c ON c.id = l.cart_id
          JOIN catalog_variant v ON v.id = l.variant_id
         WHERE c.user_id = p_user_id;
    END IF;
    IF coalesce(cardinality(p_skus), 0) = 0 THEN
        RAISE EXCEPTION 'empty_cart';
    END IF;

    SELECT jsonb_agg(d.sku ORDER BY d.ord) FILTER (WHERE v.id IS NULL),
           jsonb_agg(DISTINCT v.currency) FILTER (WHERE v.id IS NOT NULL),
           sum(v.price * d.quantity),
           array_agg(v.id ORDER BY d.ord),
           jsonb_agg(DISTINCT p.slug) FILTER (WHERE v.id IS NOT NULL)
      INTO v_unknown, v_currencies, v_total, v_variant_ids, v_slugs
      FROM unnest(p_skus, p_quantities) WITH ORDINALITY AS d(sku, quantity, ord)
      LEFT JOIN (catalog_variant v JOIN catalog_product p ON p.id = v.product_id AND p.is_active)
             ON v.sku = d.sku AND v.is_active;
    IF v_unknown IS NOT NULL THEN
        RAISE EXCEPTION 'unknown_sku' USING DETAIL = v_unknown::text;
    END IF;
    IF jsonb_array_length(v_currencies) > 1 THEN
        RAISE EXCEPTION 'currency_mismatch' USING DETAIL = v_currencies::text;
    END IF;
    v_currency := v_currencies ->> 0;
    v_short := inventory_stock_short(v_variant_ids, p_quantities, p_skus);
    IF v_short IS NOT NULL THEN
        RAISE EXCEPTION 'insufficient_stock' USING DETAIL = v_short::text;
    END IF;

    INSERT INTO orders_order (number, user_id, status, currency, total, payment_reference,
                              created_at, updated_at)
    VALUES (p_number, p_user_id, 'placed', v_currency, v_total, '', now(), now())
    RETURNING id INTO v_order_id;
    INSERT INTO orders_orderline (order_id, variant_id, sku, name, quantity, unit_price,
                                  line_total)
    SELECT v_order_id, d.variant_id, d.sku, p.name || ' - ' || v.name, d.quantity, v.price,
           v.price * d.quantity
      FROM unnest(v_variant_ids, p_skus, p_quantities) WITH ORDINALITY
           AS d(variant_id, sku, quantity, ord)
      JOIN catalog_variant v ON v.id = d.variant_id
      JOIN catalog_product p ON p.id = v.product_id
     ORDER BY d.ord;
    IF p_from_cart THEN
        -- What this order took, not the whole cart: a line added meanwhile stays.
        PERFORM cart_lines_take(p_user_id, v_variant_ids, p_quantities);
    END IF;

    -- Last, so that the stock rows stay locked only from here to the commit.
    v_stock := inventory_stock_allocate(v_order_id, v_variant_ids, p_quantities, p_skus);
    RETURN jsonb_build_object(
        'order_id', v_order_id, 'key_id', v_key_id, 'total', v_total::text,
        'currency', v_currency, 'crossed_zero', v_stock -> 'crossed_zero',
        'product_slugs', v_slugs);
END;
$$;

-- Record the payment's answer for an order placed by orders_order_place, under the order's row
-- lock: paid, or payment_failed with its stock returned (once). An order cancelled while the
-- provider answered stays cancelled, and an approval for it must be voided ("void": true).
-- Stores the replayable response on the key and returns it:
-- {"status_code", "body" (JSON text), "order_status", "void", "released" (null or the release)}.
CREATE OR REPLACE FUNCTION orders_order_settle(
    p_order_id bigint, p_key_id bigint, p_ok boolean, p_reference text, p_message text
) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_status text;
    v_released jsonb;
    v_code integer := 201;
    v_body text;
BEGIN
    SELECT status INTO v_status FROM orders_order WHERE id = p_order_id FOR UPDATE;
    IF v_status = 'placed' THEN
        v_status := CASE WHEN p_ok THEN 'paid' ELSE 'payment_failed' END;
        UPDATE orders_order
           SET status = v_status, updated_at = now(),
               payment_reference = CASE WHEN p_ok THEN p_reference ELSE payment_reference END
         WHERE id = p_order_id;
        IF NOT p_ok THEN
            v_released := inventory_stock_release(p_order_id, 'payment_failed');
        END IF;
    END IF;
    IF v_status = 'payment_failed' THEN
        v_code := 402;
        v_body := json_build_object(
            'code', 'payment_failed',
            'detail', coalesce(nullif(p_message, ''), 'Payment declined.'),
            'order', orders_order_json(p_order_id))::text;
    ELSE
        v_body := orders_order_json(p_order_id)::text;
    END IF;
    UPDATE orders_idempotencykey
       SET order_id = p_order_id, response_status = v_code, response_body = v_body
     WHERE id = p_key_id;
    RETURN jsonb_build_object(
        'status_code', v_code, 'body', v_body, 'order_status', v_status,
        'void', p_ok AND v_status <> 'paid', 'released', v_released);
END;
$$;
