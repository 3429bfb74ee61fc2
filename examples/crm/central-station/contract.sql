-- The contract chekt-contact-sync reads (docs/CRM.md#the-contract), as two views over the cs tables. Run it as
-- the tables' owner: a view reads its tables with its owner's rights, so the service's role needs SELECT on the
-- views alone (role.sql) and never sees cs itself, passcodes included.
--
--   psql "$CRM_ADMIN_URL" -v ON_ERROR_STOP=1 -f contract.sql
--
-- Point the service at it: CRM_SITES_SOURCE=crm_contract.sites CRM_CONTACTS_SOURCE=crm_contract.contacts

CREATE SCHEMA crm_contract;

-- One CHeKT site per account that has CHeKT ids. A cancelled or suspended account, or one whose station turned
-- the sync off, stays a site with sync_enabled false: the service then leaves its CHeKT list as it is.
CREATE VIEW crm_contract.sites AS
SELECT a.account_no                                 AS id,
       a.chekt_dealer_id,
       a.chekt_site_id,
       a.account_name                               AS name,
       (a.status = 'active' AND a.chekt_sync)       AS sync_enabled,
       a.updated_at
  FROM cs.accounts a
 WHERE a.chekt_site_id IS NOT NULL;

-- One contact per (account, person): the people CHeKT may text to confirm an alarm.
--  - decision makers only: owner, keyholder and ECV (enhanced call verification) links; technicians, agents
--    and janitors are on the call list for other reasons;
--  - links in force now: not before effective_date, not from expire_date on. now() is the start of the
--    service's read transaction, so sites and contacts agree; a link that expires changes no row, so the change
--    shows at the next change tick (SYNC_INTERVAL_SECONDS), not through a trigger;
--  - a person holding two roles on one account is one contact (GROUP BY);
--  - id is the person's id, the same on every account: a global keyholder is one CHeKT contact per site, each
--    with the same external_contact_id;
--  - phone_number: CHeKT texts its verification link, so the first mobile by the person's sort_order; with no
--    mobile, the first home or work number (it may not receive the text: the service reports such a site as
--    unreachable, docs/REACHABILITY.md); fax and pager numbers never.
CREATE VIEW crm_contract.contacts AS
WITH links AS (
  SELECT l.account_id, l.person_id, max(l.updated_at) AS updated_at, max(l.effective_date) AS effective_date
    FROM cs.account_contacts l
   WHERE l.role IN ('owner', 'keyholder', 'ecv')
     AND (l.effective_date IS NULL OR l.effective_date <= now())
     AND (l.expire_date IS NULL OR l.expire_date > now())
   GROUP BY l.account_id, l.person_id
)
SELECT p.person_id::text                          AS id,
       a.account_no                               AS site_id,
       p.first_name,
       p.last_name,
       phone.number                               AS phone_number,
       p.email,
       -- When the row last changed, or came into force.
       GREATEST(p.updated_at, links.updated_at, links.effective_date, phone.updated_at) AS updated_at
  FROM links
  JOIN cs.accounts a ON a.account_id = links.account_id
  JOIN cs.people p ON p.person_id = links.person_id
  LEFT JOIN LATERAL (
         SELECT cp.number, cp.updated_at
           FROM cs.contact_points cp
          WHERE cp.person_id = p.person_id
            AND cp.point_type IN ('mobile', 'home', 'work')
          ORDER BY cp.point_type = 'mobile' DESC, cp.sort_order, cp.point_id
          LIMIT 1
       ) phone ON true
 WHERE a.chekt_site_id IS NOT NULL;
