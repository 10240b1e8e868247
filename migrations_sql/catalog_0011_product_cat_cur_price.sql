--
-- Concurrently create index product_cat_cur_price_idx on field(s) category, currency, price, id of model product
--
CREATE INDEX CONCURRENTLY "product_cat_cur_price_idx" ON "catalog_product" ("category_id", "currency", "price", "id") WHERE ("is_active" AND "price" IS NOT NULL);
