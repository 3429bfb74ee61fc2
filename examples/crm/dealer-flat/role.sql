-- The role chekt-contact-sync connects with (CRM_DATABASE_URL): it may log in, use schema crm_contract and
-- read its two views; nothing else (docs/CRM.md#the-read-only-role). Run it as a role with CREATEROLE that owns
-- crm_contract (the one that ran contract.sql), in the CRM database:
--
--   psql "$CRM_ADMIN_URL" -v ON_ERROR_STOP=1 \
--        -v crm_role=chekt_contact_sync_reader -v crm_password="$(openssl rand -hex 24)" -f role.sql
--
-- crm_role defaults to chekt_contact_sync_reader; crm_password has no default. psql quotes both (:"x" as an
-- identifier, :'x' as a literal), so any value is safe.

\if :{?crm_role}
\else
  \set crm_role chekt_contact_sync_reader
\endif
\if :{?crm_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'role.sql: set the new role''s password with -v crm_password=...'; END $$;
\endif

CREATE ROLE :"crm_role" LOGIN PASSWORD :'crm_password' NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS;
-- Belt and braces: its sessions start read-only, so even a privilege granted by mistake later cannot be used to
-- write by accident (a session can still turn it off: it is a default, not a privilege).
ALTER ROLE :"crm_role" SET default_transaction_read_only = on;

GRANT CONNECT ON DATABASE :"DBNAME" TO :"crm_role";
GRANT USAGE ON SCHEMA crm_contract TO :"crm_role";
GRANT SELECT ON crm_contract.sites, crm_contract.contacts TO :"crm_role";
