-- An idempotent replay answers what the first request answered, byte for byte: the body as it was sent (jsonb
-- would reorder its keys) and the Location of what it created.
ALTER TABLE "IdempotencyKey" ALTER COLUMN "responseBody" TYPE TEXT USING "responseBody"::text;
ALTER TABLE "IdempotencyKey" ADD COLUMN "location" TEXT;
