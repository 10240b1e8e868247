--
-- Concurrently create index product_listed_created_idx on field(s) -created_at, -id of model product
--
CREATE INDEX CONCURRENTLY "product_listed_created_idx" ON "catalog_product" ("created_at" DESC, "id" DESC) WHERE ("is_active" AND "price" IS NOT NULL);
