--
-- Concurrently create index product_cat_created_idx on field(s) category, -created_at, -id of model product
--
CREATE INDEX CONCURRENTLY "product_cat_created_idx" ON "catalog_product" ("category_id", "created_at" DESC, "id" DESC) WHERE ("is_active" AND "price" IS NOT NULL);
