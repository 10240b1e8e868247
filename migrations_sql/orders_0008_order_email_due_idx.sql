--
-- Concurrently create index order_email_due_idx on field(s) id of model order
--
CREATE INDEX CONCURRENTLY "order_email_due_idx" ON "orders_order" ("id") WHERE "email_due";
