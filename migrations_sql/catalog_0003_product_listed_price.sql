--
-- Concurrently create index product_listed_price_idx on field(s) price, id of model product
--
CREATE INDEX CONCURRENTLY "product_listed_price_idx" ON "catalog_product" ("price", "id") WHERE ("is_active" AND "price" IS NOT NULL);
