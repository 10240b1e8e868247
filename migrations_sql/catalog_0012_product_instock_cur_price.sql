--
-- Concurrently create index product_instock_cur_price_idx on field(s) in_stock, currency, price, id of model product
--
CREATE INDEX CONCURRENTLY "product_instock_cur_price_idx" ON "catalog_product" ("in_stock", "currency", "price", "id") WHERE ("is_active" AND "price" IS NOT NULL);
