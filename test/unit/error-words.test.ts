import { describeDatabaseError } from '../../src/preflight.js';
import { bullmqPrefix, describeRedisError, describeRedisTarget } from '../../src/queue/connection.js';

/** Library wording translated for partners (docs/CONFIGURATION.md "Start-up errors"); no I/O. */

describe('describeDatabaseError', () => {
  const prisma = (cause: Record<string, unknown>, message = 'Raw query failed. Code: `N/A`. Message: `x`') =>
    Object.assign(new Error(`\nInvalid \`prisma.$queryRaw()\` invocation:\n\n\n${message}`), { code: 'P2010', meta: { driverAdapterError: { cause } } });

  it('Prisma adapter errors: unreachable, missing database, access denied', () => {
    expect(describeDatabaseError(prisma({ kind: 'DatabaseNotReachable', host: 'db', port: 5432 }))).toBe('nothing answers there (server down, wrong host or port, or a firewall)');
    expect(describeDatabaseError(prisma({ kind: 'DatabaseDoesNotExist', originalCode: '3D000', originalMessage: 'database "crm" does not exist' }))).toBe(
      'database "crm" does not exist; `npm run db:migrate` creates it and its tables',
    );
    expect(describeDatabaseError(prisma({ kind: 'DatabaseAccessDenied', originalCode: '28P01', originalMessage: 'password authentication failed for user "app"' }))).toBe(
      'password authentication failed for user "app"; check the user and password in DATABASE_URL',
    );
  });

  it('pg errors by code, and Prisma\'s "Raw query failed" wording stripped to its message', () => {
    expect(describeDatabaseError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }))).toBe('connection refused (nothing listens on that host and port)');
    expect(describeDatabaseError(Object.assign(new Error('getaddrinfo ENOTFOUND db'), { code: 'ENOTFOUND' }))).toBe('unknown host (DNS cannot resolve it)');
    expect(describeDatabaseError(Object.assign(new Error('database "x" does not exist'), { code: '3D000' }))).toBe('database "x" does not exist; `npm run db:migrate` creates it and its tables');
    expect(describeDatabaseError(prisma({}, 'Raw query failed. Code: `42P01`. Message: `relation "t" does not exist`'))).toBe('relation "t" does not exist');
    // An AggregateError (several addresses refused) has an empty message: its code still speaks.
    expect(describeDatabaseError(Object.assign(new AggregateError([], ''), { code: 'ECONNREFUSED' }))).toBe('connection refused (nothing listens on that host and port)');
  });
});

describe('describeRedisError', () => {
  it('ioredis\' "max retries per request" becomes the connection\'s own last error, or says plainly that nothing answered', () => {
    const retries = new Error('Reached the max retries per request limit (which is 3). Refer to "maxRetriesPerRequest" option for details.');
    expect(describeRedisError(retries)).toBe('no connection (nothing answered; is Redis running there?)');
    expect(describeRedisError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6390'), { code: 'ECONNREFUSED' }))).toBe('connection refused (nothing listens on that host and port)');
    expect(describeRedisError(new Error('WRONGPASS invalid username-password pair or user is disabled.'))).toBe('authentication failed: check the user and password in the URL');
    expect(describeRedisError(new Error('ERR DB index is out of range'))).toBe('the database number in the URL does not exist on this server');
    expect(describeRedisError(new Error('ERR This instance has cluster support disabled'))).toBe('this server is not a cluster node: use REDIS_URL for a single Redis server');
    expect(describeRedisError(new Error('Failed to refresh slots cache.'))).toBe('no cluster node answered (nothing listens there, an unknown host, or not a cluster)');
  });
});

describe('describeRedisTarget and bullmqPrefix', () => {
  it('names the variable and hides the password', () => {
    expect(describeRedisTarget('redis://app:s3cret@cache:6379/2')).toEqual({ variable: 'REDIS_URL', where: 'redis://app:***@cache:6379/2' });
    expect(
      describeRedisTarget({
        nodes: [
          { host: '10.0.0.1', port: 7000 },
          { host: '10.0.0.2', port: 7001 },
        ],
        password: 'x',
        tls: true,
      }),
    ).toEqual({
      variable: 'REDIS_CLUSTER_NODES',
      where: 'the cluster at 10.0.0.1:7000,10.0.0.2:7001',
    });
  });

  it('hash-tags the prefix on a cluster only', () => {
    expect(bullmqPrefix('chekt-sync', 'redis://127.0.0.1:6379')).toBe('chekt-sync');
    expect(bullmqPrefix('chekt-sync', { nodes: [{ host: 'h', port: 1 }], tls: false })).toBe('{chekt-sync}');
  });
});
