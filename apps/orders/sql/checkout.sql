-- Checkout as two server-side statements with one commit between them and the payment:
-- orders_checkout_quote reads what the order would be (no write, no lock); the payment provider
-- is asked for that total with no transaction open; orders_checkout_place then writes the order
-- with the payment's answer, takes the stock and stores the replayable response, all in one
-- transaction. Created by the migration orders/0003; apps/orders/services.py is the one Python
-- door to them. Refusals raise SQLSTATE P0001 with the error code as the message and its data as
-- JSON in DETAIL: the statement's transaction rolls back whole (no key, no order, no stock taken).
--
-- Both run with plan_cache_mode = force_generic_plan (and so do the functions they call): every
-- query in them looks rows up by key, so one plan per connection serves every call. Left to
-- choose, PL/pgSQL kept planning each call afresh (the generic plan's estimate for an unnested
-- array looked worse), which doubled the quote's time (0.53 against 0.25 ms, pgbench, 1 client).

-- The lines a checkout would buy, priced, without a write or a lock: the given SKUs, or the
-- user's cart when p_from_cart. Sold-out lines are turned away here, before any payment.
-- Returns {"taken": true} when the key is already claimed (the caller replays its answer), else
-- {"variant_ids", "skus", "quantities", "prices", "total", "currency", "product_slugs"}.
-- Raises: empty_cart, unknown_sku (DETAIL: the SKUs), currency_mismatch (DETAIL: the
-- currencies), insufficient_stock (DETAIL: the short lines).
CREATE OR REPLACE FUNCTION orders_checkout_quote(
    p_user_id integer, p_key text, p_skus text[], p_quantities integer[], p_from_cart boolean
) RETURNS jsonb
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v_unknown jsonb;
    v_currencies jsonb;
    v_total numeric;
    v_variant_ids bigint[];
    v_prices text[];
    v_short jsonb;
    v_slugs jsonb;
BEGIN
    PERFORM 1 FROM orders_idempotencykey WHERE user_id = p_user_id AND key = p_key;
    IF FOUND THEN
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
           array_agg(v.price::text ORDER BY d.ord),
           jsonb_agg(DISTINCT p.slug) FILTER (WHERE v.id IS NOT NULL)
      INTO v_unknown, v_currencies, v_total, v_variant_ids, v_prices, v_slugs
      FROM unnest(p_skus, p_quantities) WITH ORDINALITY AS d(sku, quantity, ord)
      LEFT JOIN (catalog_variant v JOIN catalog_product p ON p.id = v.product_id AND p.is_active)
             ON v.sku = d.sku AND v.is_active;
    IF v_unknown IS NOT NULL THEN
        RAISE EXCEPTION 'unknown_sku' USING DETAIL = v_unknown::text;
    END IF;
    IF jsonb_array_length(v_currencies) > 1 THEN
        RAISE EXCEPTION 'currency_mismatch' USING DETAIL = v_currencies::text;
    END IF;
    v_short := inventory_stock_short(v_variant_ids, p_quantities, p_skus);
    IF v_short IS NOT NULL THEN
        RAISE EXCEPTION 'insufficient_stock' USING DETAIL = v_short::text;
    END IF;
    RETURN jsonb_build_object(
        'variant_ids', v_variant_ids, 'skus', p_skus, 'quantities', p_quantities,
        'prices', v_prices, 'total', v_total::text, 'currency', v_currencies ->> 0,
        'product_slugs', v_slugs);
END;
$$;

-- An instant as the API writes it (Python's isoformat() in UTC with a Z): microseconds only
-- when there are some.
CREATE OR REPLACE FUNCTION orders_iso(p_at timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
        || CASE WHEN extract(microseconds FROM p_at)::bigint % 1000000 = 0 THEN ''
                ELSE to_char(p_at AT TIME ZONE 'UTC', '.US') END
        || 'Z'
$$;

-- Write the quoted order with the payment's answer, in one transaction: claim the key with the
-- response to replay, insert the order and its lines at the quoted prices (what was charged),
-- and, when paid or pending, take the bought lines out of the cart and last lock (pk order),
-- re-check and take the stock, so the hot rows stay locked for one step and the commit.
-- p_status is the payment's answer: 'paid' (201), 'pending_payment' (202: the units are held
-- for p_hold_seconds, then the expiry task returns them) or 'payment_failed' (402: kept, takes
-- nothing, no stock and no cart lines).
-- Returns {"taken": true} when the key was claimed meanwhile (nothing written: the caller voids
-- its payment and replays), else {"status_code", "body" (JSON text), "crossed_zero"}.
-- Raises insufficient_stock (DETAIL: the short lines) when the stock went while the payment was
-- asked for: nothing is written, and the caller voids the payment.
CREATE OR REPLACE FUNCTION orders_checkout_place(
    p_user_id integer, p_key text, p_hash text, p_number text, p_variant_ids bigint[],
    p_skus text[], p_quantities integer[], p_prices numeric[], p_currency text,
    p_from_cart boolean, p_status text, p_reference text, p_message text, p_hold_seconds integer
) RETURNS jsonb
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v_order_id bigint := nextval('orders_order_id_seq');
    v_now timestamptz := now();
    v_expires timestamptz := CASE WHEN p_status = 'pending_payment'
                                  THEN v_now + make_interval(secs => p_hold_seconds) END;
    v_code integer := CASE p_status WHEN 'paid' THEN 201 WHEN 'pending_payment' THEN 202
                                    ELSE 402 END;
    v_takes boolean := p_status <> 'payment_failed';
    v_total numeric;
    v_lines json;
    v_body text;
    v_key_id bigint;
    v_stock jsonb;
BEGIN
    SELECT sum(d.price * d.quantity),
           json_agg(json_build_object('sku', d.sku, 'quantity', d.quantity,
                                      'unit_price', d.price::text,
                                      'line_total', (d.price * d.quantity)::text) ORDER BY d.ord)
      INTO v_total, v_lines
      FROM unnest(p_skus, p_quantities, p_prices) WITH ORDINALITY AS d(sku, quantity, price, ord);
    -- The API's order JSON, keys in the API's order (json, not jsonb: jsonb would sort them);
    v_body := json_build_object(
        'number', p_number, 'status', p_status, 'lines', v_lines, 'total', v_total::text,
        'currency', p_currency, 'created_at', orders_iso(v_now),
        'expires_at', orders_iso(v_expires))::text;
    IF NOT v_takes THEN
        v_body := json_build_object(
            'code', 'payment_failed',
            'detail', coalesce(nullif(p_message, ''), 'Payment declined.'),
            'order', v_body::json)::text;
    END IF;

    -- First: a request with the same key waits here until this transaction ends.
    INSERT INTO orders_idempotencykey (user_id, key, request_hash, created_at, order_id,
                                       response_status, response_body)
    VALUES (p_user_id, p_key, p_hash, v_now, v_order_id, v_code, v_body)
    ON CONFLICT (user_id, key) DO NOTHING
    RETURNING id INTO v_key_id;
    IF v_key_id IS NULL THEN
        RETURN '{"taken": true}'::jsonb;
    END IF;

    INSERT INTO orders_order (id, number, user_id, status, currency, total, payment_reference,
                              expires_at, email_due, created_at, updated_at)
    VALUES (v_order_id, p_number, p_user_id, p_status, p_currency, v_total,
            CASE WHEN v_takes THEN p_reference ELSE '' END, v_expires, p_status = 'paid',
            v_now, v_now);
    INSERT INTO orders_orderline (order_id, variant_id, sku, name, quantity, unit_price,
                                  line_total)
    SELECT v_order_id, d.variant_id, d.sku, p.name || ' - ' || v.name, d.quantity, d.price,
           d.price * d.quantity
      FROM unnest(p_variant_ids, p_skus, p_quantities, p_prices) WITH ORDINALITY
           AS d(variant_id, sku, quantity, price, ord)
      JOIN catalog_variant v ON v.id = d.variant_id
      JOIN catalog_product p ON p.id = v.product_id
     ORDER BY d.ord;
    IF NOT v_takes THEN
        RETURN jsonb_build_object('status_code', v_code, 'body', v_body, 'crossed_zero', false);
    END IF;
    IF p_from_cart THEN
        -- What this order took, not the whole cart: a line added meanwhile stays.
        PERFORM cart_lines_take(p_user_id, p_variant_ids, p_quantities);
    END IF;

    -- Last, so that the stock rows stay locked only from here to the commit.
    v_stock := inventory_stock_allocate(v_order_id, p_variant_ids, p_quantities, p_skus);
    RETURN jsonb_build_object('status_code', v_code, 'body', v_body,
                              'crossed_zero', v_stock -> 'crossed_zero');
END;
$$;
