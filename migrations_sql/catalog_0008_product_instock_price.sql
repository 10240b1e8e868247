--
-- Concurrently create index product_instock_price_idx on field(s) in_stock, price, id of model product
--
CREATE INDEX CONCURRENTLY "product_instock_price_idx" ON "catalog_product" ("in_stock", "price", "id") WHERE ("is_active" AND "price" IS NOT NULL);
