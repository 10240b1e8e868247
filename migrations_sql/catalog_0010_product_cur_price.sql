--
-- Concurrently create index product_cur_price_idx on field(s) currency, price, id of model product
--
CREATE INDEX CONCURRENTLY "product_cur_price_idx" ON "catalog_product" ("currency", "price", "id") WHERE ("is_active" AND "price" IS NOT NULL);
