-- A few accounts with the rows that make a contract view worth writing. Names, numbers and passcodes are
-- invented (555-01xx numbers are reserved for fiction). Explicit ids below 1000; the sequences start at 1000.
--
--   psql "$CRM_ADMIN_URL" -v ON_ERROR_STOP=1 -f seed.sql

INSERT INTO cs.accounts (account_id, account_no, account_name, status, chekt_dealer_id, chekt_site_id, chekt_sync) VALUES
  (1, 'CS-1001', 'Harbor Street Pharmacy', 'active',    '1201', '5001', true),
  (2, 'CS-1002', 'Lakeside Dental',        'active',    '1201', '5002', true),
  (3, 'CS-1003', 'Northgate Warehouse',    'active',    '1201', '5003', true),
  -- Cancelled: still a CHeKT site, but the sync leaves it alone (sync_enabled false).
  (4, 'CS-1004', 'Old Mill Bakery',        'cancelled', '1201', '5004', true),
  -- Monitored without CHeKT: not a site of the contract at all, nor are its people.
  (5, 'CS-1005', 'Pine Court Residence',   'active',    NULL,   NULL,   true);

INSERT INTO cs.people (person_id, person_type, first_name, last_name, email, passcode) VALUES
  (1,  'contact',          'Maria', 'Ortiz',  'maria.ortiz@example.com', 'bluebird'),
  -- The global keyholder: one guard company record on three accounts.
  (2,  'global_keyholder', 'Tom',   'Reilly', 'dispatch@reilly-patrol.example', 'harbor-7'),
  (3,  'contact',          'Dan',   'Wu',     'dan.wu@example.com', NULL),
  (4,  'contact',          'Linda', 'Park',   NULL, 'tulip'),
  (5,  'contact',          'Sam',   'Patel',  'sam.patel@example.com', NULL),
  (6,  'contact',          'Edith', 'Brown',  NULL, 'rosemary'),
  (7,  'contact',          'Raj',   'Singh',  'raj@northgate.example', 'forklift'),
  (8,  'contact',          'Grace', 'Lee',    'grace@lakeside-dental.example', 'molar'),
  (9,  'contact',          'Omar',  'Haddad', NULL, NULL),
  (10, 'contact',          'Vic',   'Adams',  'vic@alarm-agents.example', NULL),
  (11, 'contact',          'Ana',   'Costa',  NULL, 'flour'),
  (12, 'contact',          'Pete',  'Moss',   NULL, NULL);

INSERT INTO cs.account_contacts (account_id, person_id, role, call_order, effective_date, expire_date) VALUES
  (1, 1,  'owner',      1, NULL, NULL),
  (1, 2,  'keyholder',  2, NULL, NULL),
  (1, 3,  'technician', 3, NULL, NULL),                                   -- not a decision maker: left out
  (2, 8,  'owner',      1, NULL, NULL),
  (2, 8,  'keyholder',  2, NULL, NULL),                                   -- the same person twice: one contact
  (2, 6,  'keyholder',  3, NULL, NULL),
  (2, 4,  'keyholder',  4, now() - interval '400 days', now() - interval '10 days'),   -- expired: left out
  (2, 2,  'keyholder',  5, NULL, now() + interval '300 days'),            -- expires later: still in
  (3, 7,  'owner',      1, now() - interval '30 days', NULL),
  (3, 2,  'keyholder',  2, NULL, NULL),
  (3, 5,  'keyholder',  3, now() + interval '20 days', NULL),             -- not effective yet: left out
  (3, 9,  'ecv',        4, NULL, NULL),
  (3, 10, 'agent',      5, NULL, NULL),                                   -- not a decision maker: left out
  (4, 11, 'owner',      1, NULL, NULL),
  (5, 12, 'owner',      1, NULL, NULL);

INSERT INTO cs.contact_points (person_id, point_type, number, extension, sort_order) VALUES
  (1,  'mobile', '(201) 555-0101', NULL, 1),
  (1,  'work',   '(201) 555-0102', '12', 2),
  (2,  'work',   '(201) 555-0110', NULL, 1),
  (2,  'mobile', '(201) 555-0111', NULL, 2),                              -- mobile second in order: picked
  (3,  'mobile', '(201) 555-0120', NULL, 1),
  (4,  'mobile', '(201) 555-0130', NULL, 1),
  (5,  'mobile', '(201) 555-0140', NULL, 1),
  (6,  'home',   '(201) 555-0150', NULL, 1),                              -- home only: the fallback
  (7,  'work',   '(201) 555-0160', '204', 1),
  (7,  'mobile', '(201) 555-0161', NULL, 2),
  (7,  'mobile', '(201) 555-0162', NULL, 3),                              -- a second mobile: not picked
  (8,  'fax',    '(201) 555-0170', NULL, 1),
  (8,  'mobile', '(201) 555-0171', NULL, 2),
  (9,  'fax',    '(201) 555-0180', NULL, 1),                              -- fax only: no phone at all
  (10, 'mobile', '(201) 555-0190', NULL, 1),
  (11, 'mobile', '(201) 555-0191', NULL, 1),
  (12, 'mobile', '(201) 555-0192', NULL, 1);
