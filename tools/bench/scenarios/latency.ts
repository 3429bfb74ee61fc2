import { setTimeout as sleep } from 'node:timers/promises';
import { prepareContact, DEFAULT_RULES } from '../../../src/domain/contact.js';
import type { Sandbox } from '../../../src/sandbox/server.js';
import type { BenchData } from '../data.js';
import { spawnServices, stopServices, type BenchContext } from '../measure.js';
import { percentile, summarizeCalls } from '../stats.js';
import type { Row } from '../table.js';
import { describeMismatches, verifyEnv } from '../verify.js';
import type { PairedEnvs } from './sync.js';

/**
 * Commit→CHeKT latency: with the service running, N CRM contacts are updated in PostgreSQL, one transaction
 * each, `spacingMs` apart; the latency of each is from its commit to the moment the sandbox receives the PUT
 * for that contact. The service runs as `npm start` does (job schedulers and the NOTIFY listener on;
 * `SYNC_INTERVAL_SECONDS` 86,400, so only notifications act). The naive baseline has no notifications: it
 * lists every site and writes, back to back, as fast as the rate limit allows (the best a polling loop can do).
 */

/** Size and pace of the latency scenario. */
export interface LatencySetup {
  readonly updates: number;
  readonly spacingMs: number;
  readonly ratePerMinute: number;
}

/** One committed CRM update and the CHeKT path its PUT must reach. */
interface Commit {
  readonly path: string;
  readonly at: number;
}

/** Runs the scenario on the synced environments of scenarios 1-3; appends two rows. */
export async function runLatencyScenario(ctx: BenchContext, envs: PairedEnvs, setup: LatencySetup, rows: Row[]): Promise<void> {
  const targets = pickContacts(envs.data, setup.updates);
  for (const mode of ['changes', 'reconcile'] as const) {
    const env = envs[mode];
    ctx.progress(`latency, ${mode}: ${targets.length} CRM updates ${setup.spacingMs} ms apart`);
    const settings = { ratePerMinute: setup.ratePerMinute, extra: { RECONCILE_RATE_SHARE_PERCENT: '100' } };
    const services = await spawnServices(ctx, env, settings, 1, { workers: true, scheduler: mode === 'changes' });
    if (mode === 'changes') {
      // Whatever the start-up of the job schedulers triggers finishes first: the measurement shows a service
      // that has been running.
      await quiet(env.sandbox);
    } else {
      await services[0]!.loopStart('reconcile');
    }
    env.sandbox.resetStats();
    const commits: Commit[] = [];
    for (const c of targets) {
      await env.db.contact.updateMany({ where: { id: c.id }, data: { lastName: `${c.lastName} Bench` } });
      commits.push({ path: c.path(env.sandbox), at: Date.now() });
      await sleep(setup.spacingMs);
    }
    const latencies = await waitForWrites(env.sandbox, commits, 180_000);
    const passes = mode === 'reconcile' ? await services[0]!.loopStop() : null;
    const usage = await stopServices(services);
    const calls = summarizeCalls(env.sandbox.requests());
    const mismatches = await verifyEnv(env);
    const missing = latencies.filter((l) => l === null).length;
    const seen = latencies.filter((l): l is number => l !== null);
    const problems = [...(missing > 0 ? [`${missing} writes never arrived`] : []), ...(mismatches.length > 0 ? [describeMismatches(mismatches)] : [])];
    rows.push({
      scenario: 'latency: commit→CHeKT',
      mode,
      contacts: envs.data.contacts.length,
      sites: envs.data.sites.length,
      changes: targets.length,
      calls: calls.calls,
      ideal: targets.length,
      wallMs: calls.lastAt === null || commits[0] === undefined ? null : calls.lastAt - commits[0].at,
      perMinute: calls.acceptedPerMinute,
      ...(calls.firstAt !== null && calls.lastAt !== null ? { rateSpanMs: calls.lastAt - calls.firstAt } : {}),
      limit: setup.ratePerMinute,
      p50: percentile(seen, 50) / 1000,
      p95: percentile(seen, 95) / 1000,
      rssMb: usage.maxRssMb,
      notes: [
        `${calls.lists} lists, ${calls.writes} writes, ${calls.tokens} token`,
        mode === 'changes' ? 'NOTIFY, debounce 500 ms' : `${passes} back-to-back list-every-site passes`,
        `max ${(Math.max(...seen) / 1000).toFixed(2)} s`,
        ...problems,
      ].join('; '),
      ok: problems.length === 0,
    });
  }
}

/** Valid contacts with valid phone and e-mail on enabled sites, spread over the data set. */
function pickContacts(data: BenchData, n: number) {
  const sites = new Map(data.sites.filter((s) => s.syncEnabled).map((s) => [s.id, s]));
  const fit = data.contacts.filter((c) => {
    if (!sites.has(c.siteId)) return false;
    const p = prepareContact({ ...c, crmSiteId: c.siteId, deletedAt: null }, DEFAULT_RULES);
    return p.ok && p.contact.phone.state !== 'invalid' && p.contact.email.state !== 'invalid' && p.contact.warnings.length === 0;
  });
  const step = Math.max(1, Math.floor(fit.length / n));
  return fit
    .filter((_, i) => i % step === 0)
    .slice(0, n)
    .map((c) => {
      const site = sites.get(c.siteId)!;
      return {
        id: c.id,
        lastName: c.lastName,
        /** The CHeKT path of this contact (its `contact_id` is the sandbox's). */
        path(sandbox: Sandbox): string {
          const remote = sandbox.contacts(site.chektDealerId, site.chektSiteId).find((r) => r.external_contact_id === c.id);
          if (!remote) throw new Error(`contact ${c.id} is not in CHeKT before the latency scenario`);
          return `/partner/v1/dealers/${site.chektDealerId}/sites/${site.chektSiteId}/contacts/${remote.contact_id}`;
        },
      };
    });
}

/** Waits until the sandbox received a successful PUT on each commit's path after its commit; ms or null. */
async function waitForWrites(sandbox: Sandbox, commits: readonly Commit[], timeoutMs: number): Promise<Array<number | null>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const puts = sandbox.requests().filter((r) => r.method === 'PUT' && r.status === 200);
    const latencies = commits.map((c) => {
      const hit = puts.find((r) => r.path === c.path && r.at >= c.at);
      return hit ? hit.at - c.at : null;
    });
    if (latencies.every((l) => l !== null) || Date.now() > deadline) return latencies;
    await sleep(200);
  }
}

/** Waits until the sandbox received nothing for 1 s (at most 60 s). */
async function quiet(sandbox: Sandbox): Promise<void> {
  const deadline = Date.now() + 60_000;
  let last = -1;
  while (Date.now() < deadline) {
    const total = sandbox.stats().total;
    if (total === last && sandbox.inFlight() === 0) return;
    last = total;
    await sleep(1000);
  }
}
