--
-- Concurrently create index product_instock_created_idx on field(s) in_stock, -created_at, -id of model product
--
CREATE INDEX CONCURRENTLY "product_instock_created_idx" ON "catalog_product" ("in_stock", "created_at" DESC, "id" DESC) WHERE ("is_active" AND "price" IS NOT NULL);
