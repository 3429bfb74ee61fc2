-- The built-in contacts table follows the source contract's key (docs/CRM.md#the-contract): (site_id, id), so one
-- person may be a contact of several sites under one id, each its own CHeKT contact on its own site. The primary
-- key's leading column serves the lookups by site the old index served.
ALTER TABLE "contacts" DROP CONSTRAINT "contacts_pkey";
ALTER TABLE "contacts" ADD CONSTRAINT "contacts_pkey" PRIMARY KEY ("site_id", "id");
DROP INDEX IF EXISTS "contacts_site_id_idx";
