--
-- Concurrently remove index product_instock_price_idx from product
--
DROP INDEX CONCURRENTLY IF EXISTS "product_instock_price_idx";
