--
-- Concurrently remove index product_listed_price_idx from product
--
DROP INDEX CONCURRENTLY IF EXISTS "product_listed_price_idx";
