--
-- Concurrently create index product_search_gin_idx on field(s) search_vector of model product
--
CREATE INDEX CONCURRENTLY "product_search_gin_idx" ON "catalog_product" USING gin ("search_vector");
