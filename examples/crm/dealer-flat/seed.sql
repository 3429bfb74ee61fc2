-- A few customers with the rows a flat dealer CRM really holds. Names, numbers and passcodes are invented
-- (555-01xx numbers are reserved for fiction).
--
--   psql "$CRM_ADMIN_URL" -v ON_ERROR_STOP=1 -f seed.sql

INSERT INTO dealer.customers (cust_no, dealer_code, chekt_site, cust_name, active, modified) VALUES
  (40001, '3300', '7001', 'Brookside Veterinary', 'Y', '2026-11-02 09:15:00'),
  (40002, '3300', '7002', 'Elm Ridge Apartments', 'Y', '2026-11-03 14:40:00'),
  -- Inactive: still a CHeKT site, left alone (sync_enabled false).
  (40003, '3300', '7003', 'Corner Hardware',      'N', '2026-10-20 08:00:00'),
  -- No CHeKT site yet: an empty string, not a null. Not a site of the contract.
  (40004, '3300', '',     'Hilltop Farm Supply',  'Y', '2026-11-05 11:05:00');

INSERT INTO dealer.emergency_contacts (contact_no, cust_no, priority, fname, lname, cell, home_phone, email_addr, passcode, is_deleted, modified) VALUES
  (1, 40001, 1, 'Nina',  'Kowalski', '(973) 555-0101', '',               'nina@brooksidevet.example', '4471', false, '2026-11-02 09:15:00'),
  (2, 40001, 2, 'Luis',  'Ferreira', '',               '(973) 555-0102', '',                          '',     false, '2026-11-02 09:16:00'),  -- home only
  (3, 40001, 3, 'Karen', 'Mills',    '(973) 555-0103', '',               'karen@example.com',         '',     true,  '2026-11-20 17:30:00'),  -- soft-deleted
  (4, 40002, 1, 'Elm Ridge', 'Office', '(973) 555-0110', '(973) 555-0111', ' office@elmridge.example ', '9090', false, '2026-11-03 14:40:00'),
  (5, 40002, 2, 'Joe',   '',         '(973) 555-0112', '',               '',                          '',     false, '2026-11-03 14:41:00'),  -- no last name
  (6, 40003, 1, 'Ray',   'Corner',   '(973) 555-0120', '',               '',                          '1234', false, '2026-10-20 08:00:00'),
  (7, 40004, 1, 'Hal',   'Hill',     '(973) 555-0130', '',               '',                          '',     false, '2026-11-05 11:05:00');
