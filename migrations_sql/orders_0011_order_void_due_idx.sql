--
-- Concurrently create index order_void_due_idx on field(s) id of model order
--
CREATE INDEX CONCURRENTLY "order_void_due_idx" ON "orders_order" ("id") WHERE "void_due";
