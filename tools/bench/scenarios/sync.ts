import { DEFAULT_RULES } from '../../../src/domain/contact.js';
import { applyEdits, editCount, idealWrites, makeData, makeEdits, withEdits, type BenchData } from '../data.js';
import { openEnv, tagged, type BenchEnv } from '../env.js';
import { measureRun, measuredRow, type BenchContext } from '../measure.js';
import type { Row } from '../table.js';

/**
 * Scenarios 1-3 on one data set, each measured twice on identical copies: the service (`changes`: the CRM
 * against the ledger, CHeKT only for writes) and the naive baseline (`reconcile`: list every site, then write).
 * 1. first sync into an empty CHeKT; 2. a tick with nothing changed; 3. a tick after 1 % of contacts changed.
 */

/** Size and pace of the sync scenarios. */
export interface SyncSetup {
  readonly sites: number;
  readonly contacts: number;
  /** Configured in the service and enforced by the sandbox (same value). */
  readonly ratePerMinute: number;
  /** Sandbox latency per `/partner` request, ms. */
  readonly latencyMs: number;
}

/** The two environments after the scenarios (synced), and the CRM data they hold. */
export interface PairedEnvs {
  readonly changes: BenchEnv;
  readonly reconcile: BenchEnv;
  readonly data: BenchData;
}

/** The service's database and prefix, and the naive baseline's. */
export const ENV_NAMES = {
  changes: { database: 'chekt_contact_sync_bench', prefix: 'chekt-sync-bench' },
  reconcile: { database: 'chekt_contact_sync_bench_naive', prefix: 'chekt-sync-bench-naive' },
} as const;

/** Opens both environments on the same data with the same sandbox settings. */
export async function openPair(ctx: BenchContext, data: BenchData, sandbox: { ratePerMinute: number; burst?: number; latencyMs: number; rateLimitHeaders?: boolean }): Promise<PairedEnvs> {
  const sandboxOptions = {
    rateLimitPerMinute: sandbox.ratePerMinute,
    rateLimitHeaders: sandbox.rateLimitHeaders ?? true,
    ...(sandbox.burst !== undefined ? { rateLimitBurst: sandbox.burst } : {}),
    faults: { latencyMs: sandbox.latencyMs },
  };
  const [changes, reconcile] = await Promise.all(
    (['changes', 'reconcile'] as const).map((mode) =>
      openEnv(ctx.servers, { label: mode, database: tagged(ctx.servers, ENV_NAMES[mode].database, '_'), prefix: tagged(ctx.servers, ENV_NAMES[mode].prefix, '-'), data, sandbox: sandboxOptions }),
    ),
  );
  return { changes: changes!, reconcile: reconcile!, data };
}

/** Runs scenarios 1-3, appending two rows per scenario; returns the synced environments for later scenarios. */
export async function runSyncScenarios(ctx: BenchContext, setup: SyncSetup, rows: Row[]): Promise<PairedEnvs> {
  const data = makeData(setup.sites, setup.contacts);
  const envs = await openPair(ctx, data, { ratePerMinute: setup.ratePerMinute, latencyMs: setup.latencyMs });
  const settings = { ratePerMinute: setup.ratePerMinute };
  const base = { contacts: data.contacts.length, sites: data.sites.length, limit: setup.ratePerMinute };

  const firstIdeal = idealWrites(null, data, DEFAULT_RULES);
  for (const mode of ['changes', 'reconcile'] as const) {
    ctx.progress(`1 first sync, ${mode}: ${data.contacts.length} contacts on ${data.sites.length} sites at ${setup.ratePerMinute}/min`);
    const m = await measureRun(ctx, envs[mode], settings, mode);
    rows.push(measuredRow({ ...base, scenario: '1 first sync', mode, changes: data.contacts.length, ideal: firstIdeal }, m, windowNotes(m.calls.max1s, setup.ratePerMinute)));
  }

  for (const mode of ['changes', 'reconcile'] as const) {
    ctx.progress(`2 no-change tick, ${mode}`);
    const m = await measureRun(ctx, envs[mode], settings, mode);
    const row = measuredRow({ ...base, scenario: '2 no-change tick', mode, changes: 0, ideal: 0 }, m);
    // The point of change detection: a quiet tick makes no CHeKT call at all.
    const zero = mode !== 'changes' || m.calls.calls === 0;
    rows.push({ ...row, ok: row.ok && zero, notes: zero ? row.notes : `${row.notes}; EXPECTED 0 CHeKT calls` });
  }

  const edits = makeEdits(data, 0.01);
  const after = withEdits(data, edits);
  const ideal = idealWrites(data, after, DEFAULT_RULES);
  const what = `${edits.updates.length} updated, ${edits.softDeletes.length} soft-deleted, ${edits.additions.length} added`;
  for (const mode of ['changes', 'reconcile'] as const) {
    await applyEdits(envs[mode].db, edits, new Date());
    ctx.progress(`3 1 % changed (${what}), ${mode}`);
    const m = await measureRun(ctx, envs[mode], settings, mode);
    rows.push(measuredRow({ ...base, contacts: after.contacts.length, scenario: '3 1 % changed', mode, changes: editCount(edits), ideal }, m, [what]));
  }
  return { ...envs, data: after };
}

/**
 * The short-window bound of the service's limiter (src/chekt/rateLimiter.ts): 1 s windows of floor(limit/60)
 * calls, so at most twice that within any sliding second (two window edges).
 */
export function windowNotes(max1s: number, ratePerMinute: number): string[] {
  const points = Math.floor(ratePerMinute / 60);
  return [`max ${max1s} calls in any 1 s (bound ${2 * points})`];
}
