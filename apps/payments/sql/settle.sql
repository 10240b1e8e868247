-- A payment provider's event applied to its order in one server-side statement: the webhook's
-- whole transaction (lock the order, check the event is new, move the order, return its units,
-- record the event) in one round trip and one commit. Created by the migration payments/0002;
-- apps/payments/services.py is the one Python door to it.
--
-- Under the order's row lock, so at most once per order: a redelivery of the same event waits for
-- the lock, then finds the event stored. Locks the order, then (returning units) its stock rows,
-- in the same order as the expiry and the buyer's cancel; the checkout takes stock rows only.
--
-- Returns {"result", "status", "lag", "returned"}: result is applied, ignored, voided (money for
-- an order that no longer waits for it: the order's void_due is set, for the void task) or
-- duplicate (nothing written); status the order's status after the event; lag the seconds past
-- expires_at of an order this expired; returned what inventory_stock_release_orders answered
-- when units went back (else null).
-- Raises: not_found (nothing written). A unique violation on event_id means the same event was
-- applied to another order at the same moment: the statement rolled back whole.
CREATE OR REPLACE FUNCTION payments_settle(p_event_id text, p_number text, p_outcome text)
RETURNS jsonb
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v_now timestamptz := now();
    v_id bigint;
    v_status text;
    v_expires timestamptz;
    v_result text;
    v_lag double precision;
    v_returned jsonb;
BEGIN
    SELECT id, status, expires_at
      INTO v_id, v_status, v_expires
      FROM orders_order WHERE number = p_number FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'not_found';
    END IF;
    IF EXISTS (SELECT 1 FROM payments_paymentevent WHERE event_id = p_event_id) THEN
        RETURN jsonb_build_object('result', 'duplicate', 'status', v_status);
    END IF;

    IF v_status <> 'pending_payment' THEN
        -- Settled before: it never changes again. Money for it is kept only if it was paid.
        v_result := CASE WHEN p_outcome = 'succeeded' AND v_status NOT IN ('paid', 'fulfilled')
                         THEN 'voided' ELSE 'ignored' END;
        IF v_result = 'voided' THEN
            UPDATE orders_order SET void_due = true WHERE id = v_id;
        END IF;
    ELSIF p_outcome = 'succeeded' AND v_expires IS NOT NULL AND v_now >= v_expires THEN
        -- Late: the expiry task had not come round yet. The units go back as they would have.
        v_status := 'expired';
        v_result := 'voided';
        v_lag := extract(epoch FROM v_now - v_expires);
        UPDATE orders_order SET status = v_status, updated_at = v_now, void_due = true
         WHERE id = v_id;
        v_returned := inventory_stock_release_orders(ARRAY[v_id], 'expired');
    ELSIF p_outcome = 'succeeded' THEN
        v_status := 'paid';
        v_result := 'applied';
        UPDATE orders_order SET status = v_status, email_due = true, updated_at = v_now
         WHERE id = v_id;
    ELSE
        v_status := 'payment_failed';
        v_result := 'applied';
        UPDATE orders_order SET status = v_status, updated_at = v_now WHERE id = v_id;
        v_returned := inventory_stock_release_orders(ARRAY[v_id], 'payment_failed');
    END IF;

    INSERT INTO payments_paymentevent (event_id, order_id, outcome, result, status, received_at)
    VALUES (p_event_id, v_id, p_outcome, v_result, v_status, v_now);
    RETURN jsonb_build_object(
        'result', v_result, 'status', v_status, 'lag', v_lag, 'returned', v_returned);
END;
$$;
