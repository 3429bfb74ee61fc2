-- The contract chekt-contact-sync reads (docs/CRM.md#the-contract), as two views over the dealer tables: the
-- columns renamed and cast to text, empty strings read as null, Y/N as a boolean, local times given their zone,
-- and the soft-delete flag as deleted_at. Run it as the tables' owner: a view reads its tables with its owner's
-- rights, so the service's role needs SELECT on the views alone (role.sql).
--
--   psql "$CRM_ADMIN_URL" -v ON_ERROR_STOP=1 -f contract.sql
--
-- Point the service at it: CRM_SITES_SOURCE=crm_contract.sites CRM_CONTACTS_SOURCE=crm_contract.contacts

CREATE SCHEMA crm_contract;

-- One CHeKT site per customer with a CHeKT site id; an inactive customer is a site with sync_enabled false.
CREATE VIEW crm_contract.sites AS
SELECT c.cust_no::text                               AS id,
       c.dealer_code::text                           AS chekt_dealer_id,
       c.chekt_site::text                            AS chekt_site_id,
       c.cust_name::text                             AS name,
       c.active = 'Y'                                AS sync_enabled,
       c.modified AT TIME ZONE 'America/New_York'    AS updated_at
  FROM dealer.customers c
 WHERE nullif(btrim(c.chekt_site), '') IS NOT NULL;

-- Every emergency contact of those customers. contact_no is unique across customers, so it is the id.
-- is_deleted becomes deleted_at (the time of the edit that deleted it): the service then removes the contact
-- from CHeKT, deletion holds applying (docs/SAFETY.md). Leaving such rows out of the view would mean the same.
CREATE VIEW crm_contract.contacts AS
SELECT e.contact_no::text                                         AS id,
       e.cust_no::text                                            AS site_id,
       e.fname::text                                              AS first_name,
       nullif(btrim(e.lname), '')                                 AS last_name,
       coalesce(nullif(btrim(e.cell), ''), nullif(btrim(e.home_phone), '')) AS phone_number,
       nullif(btrim(e.email_addr), '')                            AS email,
       CASE WHEN e.is_deleted THEN e.modified AT TIME ZONE 'America/New_York' END AS deleted_at,
       e.modified AT TIME ZONE 'America/New_York'                 AS updated_at
  FROM dealer.emergency_contacts e
  JOIN dealer.customers c ON c.cust_no = e.cust_no
 WHERE nullif(btrim(c.chekt_site), '') IS NOT NULL;
