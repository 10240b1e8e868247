--
-- Concurrently remove index product_cat_price_idx from product
--
DROP INDEX CONCURRENTLY IF EXISTS "product_cat_price_idx";
