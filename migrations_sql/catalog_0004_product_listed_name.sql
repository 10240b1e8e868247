--
-- Concurrently create index product_listed_name_idx on field(s) name, id of model product
--
CREATE INDEX CONCURRENTLY "product_listed_name_idx" ON "catalog_product" ("name", "id") WHERE ("is_active" AND "price" IS NOT NULL);
