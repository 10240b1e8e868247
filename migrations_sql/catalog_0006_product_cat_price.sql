--
-- Concurrently create index product_cat_price_idx on field(s) category, price, id of model product
--
CREATE INDEX CONCURRENTLY "product_cat_price_idx" ON "catalog_product" ("category_id", "price", "id") WHERE ("is_active" AND "price" IS NOT NULL);
