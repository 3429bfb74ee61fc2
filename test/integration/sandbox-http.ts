import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/server.js';

/** Shared by the sandbox integration tests: a tiny fetch wrapper and fixtures. Not a test file. */

export const DEALER = '12345';
export const SITE = '1';
export const TRACE = '550e8400-e29b-41d4-a716-123456789000';
export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const REQUEST_ID = /^req_[0-9a-f]{12}$/;
export const SCOPE = 'read:site_contacts create:site_contacts update:site_contacts delete:site_contacts';
export const CONTACTS_ROUTE = '/partner/v1/dealers/:dealerId/sites/:siteId/contacts';
export const JOHN = { external_contact_id: '1234', first_name: 'John', last_name: 'Doe', phone_number: '1234567890', email: 'john.doe@example.com' };

/** A fully read response; `body` is parsed JSON, undefined when empty. */
export interface Reply {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

/** One HTTP request with an optional bearer token, trace id and JSON or form body. */
export async function call(url: string, init: { method?: string; token?: string; json?: unknown; form?: Record<string, string>; traceId?: string } = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  let body: string | undefined;
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  if (init.traceId !== undefined) headers['x-partner-trace-id'] = init.traceId;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  }
  if (init.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(init.form).toString();
  }
  const res = await fetch(url, { method: init.method ?? 'GET', headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text === '' ? undefined : JSON.parse(text) };
}

/** URL of `.../dealers/{dealerId}/sites/{siteId}/contacts` on a sandbox. */
export const contactsUrl = (sb: Sandbox, dealerId = DEALER, siteId = SITE): string => `${sb.url}/partner/v1/dealers/${dealerId}/sites/${siteId}/contacts`;

/** Gets a token with client_id + client_secret (mode 1), asserting 200. */
export async function tokenFor(sb: Sandbox, clientId = 'sandbox-client', clientSecret = 'sandbox-secret'): Promise<string> {
  const r = await call(`${sb.url}/oauth/token`, {
    method: 'POST',
    form: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret },
  });
  expect(r.status).toBe(200);
  return (r.body as { access_token: string }).access_token;
}

/** Runs `run` against a fresh sandbox and always closes it. */
export async function withSandbox(options: SandboxOptions, run: (sb: Sandbox) => Promise<void>): Promise<void> {
  const sb = await startSandbox(options);
  try {
    await run(sb);
  } finally {
    await sb.close();
  }
}

/**
 * Registers jest hooks for one sandbox shared by a describe block (sites DEALER/SITE and DEALER/2), reset
 * before each test (contacts, stats, faults) with a fresh token. Call inside `describe`; read with `current()`
 * in a later `beforeEach` or in tests.
 */
export function useSharedSandbox(): { current(): { sb: Sandbox; token: string } } {
  let sb: Sandbox | undefined;
  let token = '';
  beforeAll(async () => {
    sb = await startSandbox({
      sites: [
        { dealerId: DEALER, siteId: SITE },
        { dealerId: DEALER, siteId: '2' },
      ],
    });
  });
  afterAll(async () => {
    await sb?.close();
  });
  beforeEach(async () => {
    sb!.reset();
    sb!.setFaults({ latencyMs: 0, errorRate: 0, dropAfterCommitRate: 0, rejectExternalContactIds: [] });
    token = await tokenFor(sb!);
    sb!.resetStats();
  });
  return { current: () => ({ sb: sb!, token }) };
}
