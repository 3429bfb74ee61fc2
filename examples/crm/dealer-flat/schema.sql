-- A dealer's own flat CRM, the kind an alarm dealer's back office grew over the years: one customer table, one
-- emergency-contact table, column names of its own, Y/N flags, empty strings for "none", a soft-delete flag and
-- local times without a zone. Nothing here is chekt-contact-sync's: contract.sql adds the two views it reads.
--
--   psql "$CRM_ADMIN_URL" -v ON_ERROR_STOP=1 -f schema.sql

CREATE SCHEMA dealer;

-- A customer (premises). dealer_code and chekt_site are the CHeKT dealer and site ids; chekt_site is empty or
-- null while the customer has no CHeKT video verification. modified is the dealer's local time
-- (America/New_York), as the back office writes it.
CREATE TABLE dealer.customers (
  cust_no     integer PRIMARY KEY,
  dealer_code varchar(20) NOT NULL,
  chekt_site  varchar(20),
  cust_name   varchar(80) NOT NULL,
  active      char(1) NOT NULL DEFAULT 'Y' CHECK (active IN ('Y', 'N')),
  modified    timestamp NOT NULL DEFAULT localtimestamp
);

-- Emergency contacts in the order the dealer's operators call them (priority 1 first). A removed contact is
-- kept with is_deleted true, for the dealer's own history.
CREATE TABLE dealer.emergency_contacts (
  contact_no  integer PRIMARY KEY,
  cust_no     integer NOT NULL REFERENCES dealer.customers,
  priority    smallint NOT NULL DEFAULT 1,
  fname       varchar(40) NOT NULL,
  lname       varchar(40) NOT NULL DEFAULT '',
  cell        varchar(20) NOT NULL DEFAULT '',
  home_phone  varchar(20) NOT NULL DEFAULT '',
  email_addr  varchar(120) NOT NULL DEFAULT '',
  passcode    varchar(20) NOT NULL DEFAULT '',
  is_deleted  boolean NOT NULL DEFAULT false,
  modified    timestamp NOT NULL DEFAULT localtimestamp
);
CREATE INDEX ON dealer.emergency_contacts (cust_no);
