import { ConfigError, loadBehindSeconds, loadConfig, loadPhoneRules, type LoadConfigOptions } from '../../src/config.js';

const MINIMAL = { CHEKT_CLIENT_ID: 'client-1', CHEKT_CLIENT_SECRET: 's3cret' } as const;
const FAKE_PEM = '-----BEGIN PRIVATE KEY-----\nMIIfake\n-----END PRIVATE KEY-----\n';

/** The ConfigError thrown by loadConfig (fails the test when nothing, or something else, is thrown). */
function configError(env: Record<string, string | undefined>, options?: LoadConfigOptions): ConfigError {
  try {
    loadConfig(env, options);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected loadConfig to throw ConfigError');
}

const problemVars = (e: ConfigError) => e.problems.map((p) => p.slice(0, p.indexOf(':')));

describe('loadConfig: defaults', () => {
  it('fills every documented default from a minimal env', () => {
    expect(loadConfig(MINIMAL)).toEqual({
      databaseUrl: 'postgresql://postgres@127.0.0.1:5432/chekt_contact_sync',
      redisUrl: 'redis://127.0.0.1:6379',
      redisAllowEviction: false,
      listenDatabaseUrl: 'postgresql://postgres@127.0.0.1:5432/chekt_contact_sync',
      listenHeartbeatMs: 5000,
      recoveryIntervalSeconds: 30,
      chekt: {
        apiUrl: 'https://api.chekt.com',
        tokenUrl: 'https://api.chekt.com/oauth/token',
        auth: { mode: 'client_secret', clientId: 'client-1', clientSecret: 's3cret' },
        rateLimitPerMinute: 60,
        timeoutMs: 15_000,
        tokenRefreshSkewSeconds: 60,
        maxRetryAfterSeconds: 30,
        maxRateLimitedRetries: 5,
        assertionClockMarginSeconds: 30,
        tokenBackoffMs: 2_000,
        tokenBackoffMaxMs: 60_000,
      },
      dbStatementTimeoutMs: 30_000,
      dbPreparedStatements: true,
      databaseSchema: 'public',
      crm: {
        databaseUrl: 'postgresql://postgres@127.0.0.1:5432/chekt_contact_sync',
        sites: { schema: null, name: 'sites', sql: '"sites"', display: 'sites' },
        contacts: { schema: null, name: 'contacts', sql: '"contacts"', display: 'contacts' },
      },
      sync: {
        intervalSeconds: 60,
        reconcileCron: '0 3 * * *',
        reconcileRateSharePercent: 20,
        deleteHoldSharePercent: 10,
        deleteHoldMinDeletes: 2,
        deleteHoldWindowSeconds: 3600,
        siteMinContacts: 1,
        siteMinSmsContacts: 1,
        failedRetryCooldownSeconds: 3600,
        notifyDebounceMs: 500,
        backoffMs: 2_000,
        backoffMaxMs: 60_000,
        workerConcurrency: 8,
        shutdownTimeoutMs: 30_000,
        queuePrefix: 'chekt-sync',
        phoneDefaultRegion: 'US',
        phoneFormat: 'E164',
        maxNameLength: 100,
      },
      http: { port: 3000, host: '0.0.0.0', adminUser: undefined, adminPassword: undefined, viewerUser: undefined, viewerPassword: undefined },
      logLevel: 'info',
      alerts: {
        webhookUrl: undefined,
        webhookSecret: undefined,
        behindSeconds: 900,
        checkIntervalMs: 10_000,
        failureBatchSeconds: 60,
        maxAttempts: 10,
        retryBackoffMs: 2_000,
        timeoutMs: 5_000,
      },
    });
  });

  it('reads the alert variables, and names each bad one (docs/CONSOLE.md "Alerts")', () => {
    const c = loadConfig({ ...MINIMAL, ALERT_WEBHOOK_URL: 'https://hooks.example.com/T1', ALERT_WEBHOOK_SECRET: 'whsec', ALERT_BEHIND_SECONDS: '60' });
    expect(c.alerts).toMatchObject({ webhookUrl: 'https://hooks.example.com/T1', webhookSecret: 'whsec', behindSeconds: 60 });
    const e = configError({ ...MINIMAL, ALERT_WEBHOOK_URL: 'ftp://x', ALERT_BEHIND_SECONDS: '0', ALERT_CHECK_INTERVAL_MS: '5', ALERT_MAX_ATTEMPTS: 'many' });
    expect(problemVars(e).sort()).toEqual(['ALERT_BEHIND_SECONDS', 'ALERT_CHECK_INTERVAL_MS', 'ALERT_MAX_ATTEMPTS', 'ALERT_WEBHOOK_URL']);
  });

  it('loadBehindSeconds reads ALERT_BEHIND_SECONDS alone (npm run status needs no CHeKT credentials)', () => {
    expect(loadBehindSeconds({})).toBe(900);
    expect(loadBehindSeconds({ ALERT_BEHIND_SECONDS: ' 120 ' })).toBe(120);
    expect(() => loadBehindSeconds({ ALERT_BEHIND_SECONDS: '1e3' })).toThrow(/ALERT_BEHIND_SECONDS: must be a whole number/);
  });

  it('derives the token URL from CHEKT_API_URL (trailing slashes dropped) unless CHEKT_TOKEN_URL is set', () => {
    const dev = loadConfig({ ...MINIMAL, CHEKT_API_URL: 'https://api.chektdev.com//' });
    expect(dev.chekt.apiUrl).toBe('https://api.chektdev.com');
    expect(dev.chekt.tokenUrl).toBe('https://api.chektdev.com/oauth/token');
    const own = loadConfig({ ...MINIMAL, CHEKT_TOKEN_URL: 'https://chektdev-m2m.us.auth0.com/oauth/token' });
    expect(own.chekt.tokenUrl).toBe('https://chektdev-m2m.us.auth0.com/oauth/token');
  });

  it('coerces numbers and reads overrides', () => {
    const c = loadConfig({ ...MINIMAL, CHEKT_RATE_LIMIT_PER_MINUTE: '600', HTTP_PORT: '8080', PHONE_DEFAULT_REGION: 'KR', PHONE_FORMAT: 'NATIONAL_DIGITS', QUEUE_PREFIX: 'test_1.a-b' });
    expect(c.chekt.rateLimitPerMinute).toBe(600);
    expect(c.http.port).toBe(8080);
    expect(c.sync).toMatchObject({ phoneDefaultRegion: 'KR', phoneFormat: 'NATIONAL_DIGITS', queuePrefix: 'test_1.a-b' });
  });

  it('treats empty and blank variables as unset (defaults apply)', () => {
    const c = loadConfig({ ...MINIMAL, CHEKT_API_URL: '', CHEKT_RATE_LIMIT_PER_MINUTE: '  ', QUEUE_PREFIX: '', CHEKT_PRIVATE_KEY_FILE: '', ADMIN_USER: undefined });
    expect(c.chekt.apiUrl).toBe('https://api.chekt.com');
    expect(c.chekt.rateLimitPerMinute).toBe(60);
    expect(c.sync.queuePrefix).toBe('chekt-sync');
    expect(c.chekt.auth.mode).toBe('client_secret');
  });

  it('an empty required variable counts as missing', () => {
    expect(problemVars(configError({ ...MINIMAL, CHEKT_CLIENT_ID: '' }))).toEqual(['CHEKT_CLIENT_ID']);
  });

  it('returns a deeply frozen object', () => {
    const c = loadConfig(MINIMAL);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.chekt)).toBe(true);
    expect(Object.isFrozen(c.chekt.auth)).toBe(true);
    expect(Object.isFrozen(c.sync)).toBe(true);
    expect(Object.isFrozen(c.http)).toBe(true);
    expect(() => {
      (c.chekt as { rateLimitPerMinute: number }).rateLimitPerMinute = 1;
    }).toThrow(TypeError);
  });
});

describe('loadConfig: errors name every bad variable', () => {
  it('names a missing CHEKT_CLIENT_ID and a non-numeric CHEKT_RATE_LIMIT_PER_MINUTE in one ConfigError', () => {
    const e = configError({ CHEKT_CLIENT_SECRET: 's', CHEKT_RATE_LIMIT_PER_MINUTE: 'abc' });
    expect(e.name).toBe('ConfigError');
    expect(e).toBeInstanceOf(Error);
    expect(problemVars(e).sort()).toEqual(['CHEKT_CLIENT_ID', 'CHEKT_RATE_LIMIT_PER_MINUTE']);
    expect(e.message).toContain('CHEKT_CLIENT_ID');
    expect(e.message).toContain('CHEKT_RATE_LIMIT_PER_MINUTE');
    expect(e.message.split('\n')[0]).toBe('Invalid configuration:');
  });

  it('names schema problems and missing credentials/admin together (an empty env lists all of them)', () => {
    const e = configError({}, { requireAdmin: true });
    expect(problemVars(e).sort()).toEqual(['ADMIN_PASSWORD', 'ADMIN_USER', 'CHEKT_CLIENT_ID', 'CHEKT_CLIENT_SECRET']);
  });

  it.each([
    ['CHEKT_RATE_LIMIT_PER_MINUTE', '0'],
    ['CHEKT_RATE_LIMIT_PER_MINUTE', '1.5'],
    ['HTTP_PORT', '70000'],
    ['CHEKT_API_URL', 'ftp://api.chekt.com'],
    ['DATABASE_URL', 'mysql://x'],
    ['REDIS_URL', 'http://x'],
    ['PHONE_DEFAULT_REGION', 'us'],
    ['PHONE_FORMAT', 'E.164'],
    ['LOG_LEVEL', 'verbose'],
  ])('rejects %s=%s', (name, value) => {
    expect(problemVars(configError({ ...MINIMAL, [name]: value }))).toEqual([name]);
  });

  it.each(['not-a-url', 'http://', 'api.chekt.com'])('CHEKT_API_URL=%j is a named config error, not a crash', (value) => {
    const e = configError({ ...MINIMAL, CHEKT_API_URL: value });
    expect(e.problems).toEqual(['CHEKT_API_URL: must be an http:// or https:// URL']);
  });

  it.each([
    ['CHEKT_API_URL', 'http://user:pw123456@127.0.0.1:5999'],
    ['CHEKT_TOKEN_URL', 'https://:pw123456@auth.example.com/oauth/token'],
    ['ALERT_WEBHOOK_URL', 'https://hook:pw123456@hooks.example.com/x'],
  ])('%s with credentials in it is refused without echoing them', (name, value) => {
    const e = configError({ ...MINIMAL, [name]: value });
    expect(e.problems).toEqual([`${name}: must not contain a user name or password (credentials have their own variables)`]);
    expect(e.message).not.toContain('pw123456');
  });

  it.each(['chekt:sync', 'chekt sync', 'a/b'])('rejects QUEUE_PREFIX=%j (BullMQ reserves ":")', (value) => {
    const e = configError({ ...MINIMAL, QUEUE_PREFIX: value });
    expect(problemVars(e)).toEqual(['QUEUE_PREFIX']);
  });

  it('requires a secret or a key file', () => {
    expect(problemVars(configError({ CHEKT_CLIENT_ID: 'c' }))).toEqual(['CHEKT_CLIENT_SECRET']);
  });

  it('rejects a secret and a key file together', () => {
    const e = configError({ ...MINIMAL, CHEKT_PRIVATE_KEY_FILE: '/keys/chekt.pem', CHEKT_KEY_ID: 'k', CHEKT_AUDIENCE: 'a' }, { readFile: () => FAKE_PEM });
    expect(e.problems).toEqual(['CHEKT_CLIENT_SECRET / CHEKT_PRIVATE_KEY_FILE: set one authentication mode, not both']);
  });

  it('requireAdmin names ADMIN_USER and ADMIN_PASSWORD; given both, they are kept', () => {
    expect(problemVars(configError(MINIMAL, { requireAdmin: true }))).toEqual(['ADMIN_USER', 'ADMIN_PASSWORD']);
    expect(problemVars(configError({ ...MINIMAL, ADMIN_USER: 'ops' }, { requireAdmin: true }))).toEqual(['ADMIN_PASSWORD']);
    const c = loadConfig({ ...MINIMAL, ADMIN_USER: 'ops', ADMIN_PASSWORD: 'twelve-chars' }, { requireAdmin: true });
    expect(c.http).toMatchObject({ adminUser: 'ops', adminPassword: 'twelve-chars' });
    expect(loadConfig(MINIMAL).http.adminUser).toBeUndefined();
  });

  it('requireAdmin refuses an ADMIN_PASSWORD or VIEWER_PASSWORD under 12 characters (code points), naming it', () => {
    const admin = { ...MINIMAL, ADMIN_USER: 'ops', ADMIN_PASSWORD: 'short' };
    expect(configError(admin, { requireAdmin: true }).problems).toEqual(['ADMIN_PASSWORD: must be at least 12 characters']);
    const viewer = { ...MINIMAL, ADMIN_USER: 'ops', ADMIN_PASSWORD: 'a-long-password', VIEWER_USER: 'view', VIEWER_PASSWORD: '한국어비밀번호열하나자' };
    expect(configError(viewer, { requireAdmin: true }).problems).toEqual(['VIEWER_PASSWORD: must be at least 12 characters']);
    expect(loadConfig({ ...viewer, VIEWER_PASSWORD: '한국어비밀번호열두글자요' }, { requireAdmin: true }).http).toMatchObject({
      viewerUser: 'view',
      viewerPassword: '한국어비밀번호열두글자요',
    });
    // The CLI does not serve HTTP: no length rule without requireAdmin.
    expect(loadConfig(admin).http.adminPassword).toBe('short');
  });

  it('VIEWER_USER and VIEWER_PASSWORD come together, and the viewer is not the admin', () => {
    expect(problemVars(configError({ ...MINIMAL, VIEWER_USER: 'view' }))).toEqual(['VIEWER_PASSWORD']);
    expect(problemVars(configError({ ...MINIMAL, VIEWER_PASSWORD: 'a-long-password' }))).toEqual(['VIEWER_USER']);
    expect(configError({ ...MINIMAL, ADMIN_USER: 'ops', VIEWER_USER: 'ops', VIEWER_PASSWORD: 'a-long-password' }).problems).toEqual(['VIEWER_USER: must differ from ADMIN_USER']);
    expect(loadConfig(MINIMAL).http).toMatchObject({ viewerUser: undefined, viewerPassword: undefined });
  });
});

describe('loadConfig: messages', () => {
  it('a missing required variable reads "<NAME>: required"', () => {
    expect(configError({ CHEKT_CLIENT_SECRET: 's' }).problems).toEqual(['CHEKT_CLIENT_ID: required']);
    expect(configError({ CHEKT_CLIENT_SECRET: 's', CHEKT_CLIENT_ID: '  ' }).problems).toEqual(['CHEKT_CLIENT_ID: required']);
  });

  /** Every variable built with the int() helper, with its range. */
  const INTS: Array<[string, number, number]> = [
    ['CHEKT_RATE_LIMIT_PER_MINUTE', 1, 1_000_000],
    ['CHEKT_TIMEOUT_MS', 100, 300_000],
    ['CHEKT_TOKEN_REFRESH_SKEW_SECONDS', 0, 3600],
    ['CHEKT_MAX_RETRY_AFTER_SECONDS', 1, 3600],
    ['CHEKT_MAX_RATE_LIMITED_RETRIES', 0, 100],
    ['SYNC_INTERVAL_SECONDS', 5, 86_400],
    ['SYNC_BACKOFF_MAX_MS', 10, 3_600_000],
    ['SYNC_BACKOFF_MS', 10, 3_600_000],
    ['WORKER_CONCURRENCY', 1, 256],
    ['SHUTDOWN_TIMEOUT_MS', 0, 600_000],
    ['HTTP_PORT', 0, 65_535],
    ['CONTACT_MAX_NAME_LENGTH', 1, 10_000],
  ];

  it.each(INTS)('%s accepts only plain decimal digits in [%d, %d]', (name, min, max) => {
    const message = `${name}: must be a whole number between ${min} and ${max}`;
    for (const value of ['0x10', '1e3', '12.5', '+12', '-1', '1_000', '1,000', '12 5', '١٢', 'Infinity', String(min - 1), String(max + 1)]) {
      expect([value, configError({ ...MINIMAL, [name]: value }).problems]).toEqual([value, [message]]);
    }
    expect(() => loadConfig({ ...MINIMAL, [name]: String(min) })).not.toThrow();
    expect(() => loadConfig({ ...MINIMAL, [name]: String(max) })).not.toThrow();
  });

  it('trims white space around an integer and reads leading zeros as decimal', () => {
    expect(loadConfig({ ...MINIMAL, CHEKT_RATE_LIMIT_PER_MINUTE: ' 600\t' }).chekt.rateLimitPerMinute).toBe(600);
    expect(loadConfig({ ...MINIMAL, HTTP_PORT: '0080' }).http.port).toBe(80);
  });

  it('PHONE_DEFAULT_REGION must be a region libphonenumber-js supports, named in the message', () => {
    expect(configError({ ...MINIMAL, PHONE_DEFAULT_REGION: 'ZZ' }).problems).toEqual([
      'PHONE_DEFAULT_REGION: "ZZ" is not a region libphonenumber-js supports (an ISO 3166-1 alpha-2 code such as US or KR)',
    ]);
    expect(configError({ ...MINIMAL, PHONE_DEFAULT_REGION: 'USA' }).problems[0]).toContain('"USA"');
    expect(loadConfig({ ...MINIMAL, PHONE_DEFAULT_REGION: 'GB' }).sync.phoneDefaultRegion).toBe('GB');
  });

  it('still lists every bad variable at once, each with its own message', () => {
    const e = configError({ CHEKT_RATE_LIMIT_PER_MINUTE: '0x10', HTTP_PORT: '1e3', PHONE_DEFAULT_REGION: 'ZZ' }, { requireAdmin: true });
    expect([...e.problems].sort()).toEqual([
      'ADMIN_PASSWORD: required to protect the dashboard and /api',
      'ADMIN_USER: required to protect the dashboard and /api',
      'CHEKT_CLIENT_ID: required',
      'CHEKT_CLIENT_SECRET: required (or CHEKT_PRIVATE_KEY_FILE with CHEKT_KEY_ID and CHEKT_AUDIENCE)',
      'CHEKT_RATE_LIMIT_PER_MINUTE: must be a whole number between 1 and 1000000',
      'HTTP_PORT: must be a whole number between 0 and 65535',
      'PHONE_DEFAULT_REGION: "ZZ" is not a region libphonenumber-js supports (an ISO 3166-1 alpha-2 code such as US or KR)',
    ]);
  });
});

describe('loadConfig: private key JWT mode', () => {
  const KEY_ENV = { CHEKT_CLIENT_ID: 'client-1', CHEKT_PRIVATE_KEY_FILE: '/keys/chekt.pem', CHEKT_KEY_ID: 'kid-1', CHEKT_AUDIENCE: 'https://adc-m2m.chektdev.com/' };

  it('reads the key through the readFile option', () => {
    const paths: string[] = [];
    const c = loadConfig(KEY_ENV, { readFile: (p) => (paths.push(p), FAKE_PEM) });
    expect(paths).toEqual(['/keys/chekt.pem']);
    expect(c.chekt.auth).toEqual({ mode: 'private_key_jwt', clientId: 'client-1', privateKeyPem: FAKE_PEM, keyId: 'kid-1', audience: 'https://adc-m2m.chektdev.com/' });
  });

  it('accepts a PKCS#1 "RSA PRIVATE KEY" PEM', () => {
    const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIfake\n-----END RSA PRIVATE KEY-----\n';
    expect(loadConfig(KEY_ENV, { readFile: () => pem }).chekt.auth.mode).toBe('private_key_jwt');
  });

  it('requires CHEKT_KEY_ID and CHEKT_AUDIENCE', () => {
    const e = configError({ CHEKT_CLIENT_ID: 'c', CHEKT_PRIVATE_KEY_FILE: '/keys/chekt.pem' }, { readFile: () => FAKE_PEM });
    expect(problemVars(e)).toEqual(['CHEKT_KEY_ID', 'CHEKT_AUDIENCE']);
  });

  it('names the key file when it cannot be read or is not a PEM private key', () => {
    const unreadable = configError(KEY_ENV, {
      readFile: () => {
        throw new Error('ENOENT: no such file');
      },
    });
    expect(unreadable.problems).toEqual(['CHEKT_PRIVATE_KEY_FILE: cannot read /keys/chekt.pem (ENOENT: no such file)']);
    const notPem = configError(KEY_ENV, { readFile: () => '-----BEGIN PUBLIC KEY-----\nMIIfake\n-----END PUBLIC KEY-----' });
    expect(problemVars(notPem)).toEqual(['CHEKT_PRIVATE_KEY_FILE']);
  });
});

describe('loadConfig: user names and schedules', () => {
  const base = { CHEKT_CLIENT_ID: 'c', CHEKT_CLIENT_SECRET: 's' };
  it('refuses a ":" in ADMIN_USER or VIEWER_USER (HTTP Basic cannot carry it), naming the variable', () => {
    expect(() => loadConfig({ ...base, ADMIN_USER: 'a:b' })).toThrow(/ADMIN_USER: must not contain ":"/);
    expect(() => loadConfig({ ...base, VIEWER_USER: 'v:w', VIEWER_PASSWORD: 'long-enough-pass' })).toThrow(/VIEWER_USER: must not contain ":"/);
  });
  it('refuses a RECONCILE_CRON that is not a cron pattern, naming it', () => {
    expect(() => loadConfig({ ...base, RECONCILE_CRON: 'daily' })).toThrow(/RECONCILE_CRON: must be a cron pattern/);
    expect(() => loadConfig({ ...base, RECONCILE_CRON: '61 3 * * *' })).toThrow(/RECONCILE_CRON/);
    expect(loadConfig({ ...base, RECONCILE_CRON: '*/15 * * * *' }).sync.reconcileCron).toBe('*/15 * * * *');
  });
  it('refuses a DELETE_HOLD_SHARE_PERCENT above 100', () => {
    expect(() => loadConfig({ ...base, DELETE_HOLD_SHARE_PERCENT: '150' })).toThrow(/DELETE_HOLD_SHARE_PERCENT: must be a whole number between 0 and 100/);
  });
});

describe('loadConfig: recovery settings (docs/OPERATIONS-FAULTS.md)', () => {
  it('reads REDIS_ALLOW_EVICTION, LISTEN_DATABASE_URL, LISTEN_HEARTBEAT_MS and RECOVERY_INTERVAL_SECONDS', () => {
    const c = loadConfig({ ...MINIMAL, REDIS_ALLOW_EVICTION: 'true', LISTEN_DATABASE_URL: 'postgresql://db:5432/crm', LISTEN_HEARTBEAT_MS: '2000', RECOVERY_INTERVAL_SECONDS: '5' });
    expect([c.redisAllowEviction, c.listenDatabaseUrl, c.listenHeartbeatMs, c.recoveryIntervalSeconds]).toEqual([true, 'postgresql://db:5432/crm', 2000, 5]);
  });

  it('names each bad value: REDIS_ALLOW_EVICTION other than true/false, a non-postgres LISTEN_DATABASE_URL, a heartbeat under 100 ms, an interval of 0', () => {
    let err: unknown;
    try {
      loadConfig({ ...MINIMAL, REDIS_ALLOW_EVICTION: 'yes', LISTEN_DATABASE_URL: 'mysql://x', LISTEN_HEARTBEAT_MS: '50', RECOVERY_INTERVAL_SECONDS: '0' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(problemVars(err as ConfigError).sort()).toEqual(['LISTEN_DATABASE_URL', 'LISTEN_HEARTBEAT_MS', 'RECOVERY_INTERVAL_SECONDS', 'REDIS_ALLOW_EVICTION']);
  });
});

describe('loadConfig: DB_PREPARED_STATEMENTS (docs/DEPLOYMENT.md, PgBouncer)', () => {
  it('reads "false" as off and refuses anything but true/false', () => {
    expect(loadConfig({ ...MINIMAL, DB_PREPARED_STATEMENTS: 'false' }).dbPreparedStatements).toBe(false);
    let err: unknown;
    try {
      loadConfig({ ...MINIMAL, DB_PREPARED_STATEMENTS: 'off' });
    } catch (e) {
      err = e;
    }
    expect(problemVars(err as ConfigError)).toEqual(['DB_PREPARED_STATEMENTS']);
  });
});

describe('loadPhoneRules (npm run status classifies phones with only these)', () => {
  it('defaults, and reads the three phone variables', () => {
    expect(loadPhoneRules({})).toEqual({ defaultRegion: 'US', phoneFormat: 'E164', maxNameLength: 100, maxEmailLength: 254 });
    expect(loadPhoneRules({ PHONE_DEFAULT_REGION: 'KR', PHONE_FORMAT: 'INTERNATIONAL', CONTACT_MAX_NAME_LENGTH: '50', DATABASE_URL: 'x' })).toEqual({
      defaultRegion: 'KR',
      phoneFormat: 'INTERNATIONAL',
      maxNameLength: 50,
      maxEmailLength: 254,
    });
  });

  it('names each bad variable', () => {
    expect(() => loadPhoneRules({ PHONE_DEFAULT_REGION: 'XX', PHONE_FORMAT: 'x' })).toThrow(ConfigError);
    try {
      loadPhoneRules({ PHONE_DEFAULT_REGION: 'XX', PHONE_FORMAT: 'x' });
    } catch (err) {
      expect((err as Error).message).toMatch(/PHONE_DEFAULT_REGION: "XX" is not a region/);
      expect((err as Error).message).toMatch(/PHONE_FORMAT: /);
    }
  });

  it('SITE_MIN_SMS_CONTACTS: 0 turns the rule off; a negative value is refused', () => {
    expect(loadConfig({ ...MINIMAL, SITE_MIN_SMS_CONTACTS: '0' }).sync.siteMinSmsContacts).toBe(0);
    expect(() => loadConfig({ ...MINIMAL, SITE_MIN_SMS_CONTACTS: '-1' })).toThrow(/SITE_MIN_SMS_CONTACTS/);
  });
});

describe('loadConfig: Redis Cluster and the CHeKT base URL', () => {
  it('REDIS_CLUSTER_NODES: host:port seeds, credentials and TLS from a rediss:// entry; REDIS_URL stays as given', () => {
    const c = loadConfig({ ...MINIMAL, REDIS_CLUSTER_NODES: ' 10.0.0.1:7000, 10.0.0.2:7001 ,[::1]:7002' });
    expect(c.redisCluster).toEqual({
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      username: undefined,
      password: undefined,
      tls: false,
    });
    expect(c.redisUrl).toBe('redis://127.0.0.1:6379');
    const managed = loadConfig({ ...MINIMAL, REDIS_CLUSTER_NODES: 'rediss://app:p%40ss@cfg.cache.example.com:6379' });
    expect(managed.redisCluster).toEqual({ nodes: [{ host: 'cfg.cache.example.com', port: 6379 }], username: 'app', password: 'p@ss', tls: true });
    expect(loadConfig(MINIMAL).redisCluster).toBeUndefined();
  });

  it('REDIS_CLUSTER_NODES: a missing port, a path or another scheme is named, never echoing a password', () => {
    expect(configError({ ...MINIMAL, REDIS_CLUSTER_NODES: '10.0.0.1' }).problems).toEqual(['REDIS_CLUSTER_NODES: "10.0.0.1" needs a host and a port, e.g. 10.0.0.1:6379']);
    expect(configError({ ...MINIMAL, REDIS_CLUSTER_NODES: 'redis://u:secret@h:1/2' }).problems).toEqual(['REDIS_CLUSTER_NODES: "h:1/2": a cluster has only database 0; drop the path']);
    expect(configError({ ...MINIMAL, REDIS_CLUSTER_NODES: 'http://h:1' }).problems).toEqual(['REDIS_CLUSTER_NODES: "http://…" is not redis:// or rediss://']);
    expect(configError({ ...MINIMAL, REDIS_CLUSTER_NODES: ' , ' }).problems).toEqual(['REDIS_CLUSTER_NODES: must list at least one host:port']);
  });

  it('CHEKT_API_URL ending in /partner/v1 is refused with the fix; a proxy path is kept', () => {
    for (const u of ['https://api.chekt.com/partner/v1', 'https://api.chekt.com/partner/v1/', 'https://api.chekt.com/partner']) {
      expect(configError({ ...MINIMAL, CHEKT_API_URL: u }).problems).toEqual(['CHEKT_API_URL: must be the base URL without /partner/v1 (the client adds it), e.g. https://api.chekt.com']);
    }
    expect(loadConfig({ ...MINIMAL, CHEKT_API_URL: 'https://proxy.example.com/chekt/' }).chekt.apiUrl).toBe('https://proxy.example.com/chekt');
  });
});
