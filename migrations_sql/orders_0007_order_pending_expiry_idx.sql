--
-- Concurrently create index order_pending_expiry_idx on field(s) expires_at of model order
--
CREATE INDEX CONCURRENTLY "order_pending_expiry_idx" ON "orders_order" ("expires_at") WHERE "status" = 'pending_payment';
