-- Cart writes as server-side functions (one round trip each), created by the migration
-- cart/0002; apps/cart/services.py is the one Python door to them. Refusals raise SQLSTATE P0001
-- with the error code as the message and its data as JSON in DETAIL, having changed nothing.

-- The cart's lines as the API lists them, oldest first: [[id, sku, quantity, price, currency]].
CREATE OR REPLACE FUNCTION cart_lines_json(p_cart_id bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_result jsonb;
BEGIN
    SELECT coalesce(jsonb_agg(jsonb_build_array(l.id, v.sku, l.quantity, v.price::text,
                                                v.currency) ORDER BY l.created_at, l.id),
                    '[]'::jsonb)
      INTO v_result
      FROM cart_cartline l JOIN catalog_variant v ON v.id = l.variant_id
     WHERE l.cart_id = p_cart_id;
    RETURN v_result;
END;
$$;

-- Add p_quantity units of p_sku to the user's cart (to its line if there is one), creating the
-- cart on first use. The cart row is locked by the upsert that creates it, so two tabs adding at
-- once add up exactly. Returns {"line_id", "lines": cart_lines_json}.
-- Raises: unknown_sku, quantity_limit, cart_full, currency_mismatch (DETAIL: the cart's currency).
CREATE OR REPLACE FUNCTION cart_line_add(
    p_user_id integer, p_sku text, p_quantity integer, p_max_quantity integer,
    p_max_lines integer
) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_variant_id bigint;
    v_currency text;
    v_cart_id bigint;
    v_line_id bigint;
    v_quantity integer;
    v_lines integer;
    v_cart_currency text;
BEGIN
    SELECT v.id, v.currency INTO v_variant_id, v_currency
      FROM catalog_variant v JOIN catalog_product p ON p.id = v.product_id
     WHERE v.sku = p_sku AND v.is_active AND p.is_active;
    IF v_variant_id IS NULL THEN
        RAISE EXCEPTION 'unknown_sku';
    END IF;

    INSERT INTO cart_cart (user_id, updated_at) VALUES (p_user_id, now())
    ON CONFLICT (user_id) DO UPDATE SET updated_at = excluded.updated_at
    RETURNING id INTO v_cart_id;

    UPDATE cart_cartline SET quantity = quantity + p_quantity
     WHERE cart_id = v_cart_id AND variant_id = v_variant_id
    RETURNING id, quantity INTO v_line_id, v_quantity;
    IF v_line_id IS NOT NULL THEN
        IF v_quantity > p_max_quantity THEN
            RAISE EXCEPTION 'quantity_limit';
        END IF;
    ELSE
        IF p_quantity > p_max_quantity THEN
            RAISE EXCEPTION 'quantity_limit';
        END IF;
        SELECT count(*), (array_agg(v.currency ORDER BY l.created_at, l.id))[1]
          INTO v_lines, v_cart_currency
          FROM cart_cartline l JOIN catalog_variant v ON v.id = l.variant_id
         WHERE l.cart_id = v_cart_id;
        IF v_lines >= p_max_lines THEN
            RAISE EXCEPTION 'cart_full';
        END IF;
        IF v_lines > 0 AND v_cart_currency <> v_currency THEN
            RAISE EXCEPTION 'currency_mismatch' USING DETAIL = to_jsonb(v_cart_currency)::text;
        END IF;
        INSERT INTO cart_cartline (cart_id, variant_id, quantity, created_at)
        VALUES (v_cart_id, v_variant_id, p_quantity, now())
        RETURNING id INTO v_line_id;
    END IF;
    RETURN jsonb_build_object('line_id', v_line_id, 'lines', cart_lines_json(v_cart_id));
END;
$$;

-- Take out of the user's cart what an order bought from it (variant -> units), nothing more.
-- Two statements, so that the second sees what the first waited for: the DELETE of the lines the
-- order used up waits for a line another tab is still raising, re-checks it under READ COMMITTED
-- and leaves it; the UPDATE then takes a fresh snapshot and lowers that line by what was bought.
-- A line added after the checkout read the cart is not touched at all.
CREATE OR REPLACE FUNCTION cart_lines_take(
    p_user_id integer, p_variant_ids bigint[], p_quantities integer[]
) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM cart_cartline l
     USING unnest(p_variant_ids, p_quantities) AS t(variant_id, quantity), cart_cart c
     WHERE l.cart_id = c.id AND c.user_id = p_user_id AND l.variant_id = t.variant_id
       AND l.quantity <= t.quantity;
    UPDATE cart_cartline l SET quantity = l.quantity - t.quantity
      FROM unnest(p_variant_ids, p_quantities) AS t(variant_id, quantity), cart_cart c
     WHERE l.cart_id = c.id AND c.user_id = p_user_id AND l.variant_id = t.variant_id
       AND l.quantity > t.quantity;
END;
$$;
