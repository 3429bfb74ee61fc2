import { countOutcome } from '../domain/runStatus.js';
import type { JsonRunReport } from '../domain/runReport.js';
import { siteKey } from '../domain/site.js';

/**
 * Run reports for the terminal (the `--json` object is built by domain/runReport.ts `toJsonReport`, shared with
 * the API). Pure formatting; no personal data is printed (ids, counts and reasons only).
 */

/** True when the run finished with no failed operation, no held delete, no site error and no run error. */
export function runSucceeded(r: JsonRunReport): boolean {
  return r.status === 'completed' && r.failures.length === 0 && r.sites.errors.length === 0 && !countOutcome(r.counts, 'failed') && r.held.length === 0;
}

/** Human-readable summary, several lines. */
export function formatReport(r: JsonRunReport): string {
  const lines: string[] = [];
  const secs = r.durationMs === null ? '?' : (r.durationMs / 1000).toFixed(1);
  const failed = countOutcome(r.counts, 'failed');
  const outcome = failed > 0 && r.status !== 'failed' ? `${r.status} (${failed} failed operation${failed === 1 ? '' : 's'})` : r.status;
  lines.push(`Run ${r.runId}${r.dryRun ? ' (dry run: nothing written)' : ''}: ${outcome} in ${secs} s`);
  if (r.error) lines.push(`  error: ${r.error}`);
  for (const p of r.summaryProblems ?? []) lines.push(`  stored plan summary unreadable, shown as absent: ${p}`);
  const t = r.planned;
  if (t) {
    lines.push(
      `  sites planned: ${t.sites}; contacts unchanged: ${t.unchanged}; adopted: ${t.adopted}; invalid (not synced): ${t.invalid}; field warnings: ${t.warnings}; unmanaged CHeKT contacts left alone: ${t.unmanaged}`,
    );
  }
  if (t && r.driftRepaired > 0) lines.push(`  drift repaired (contacts edited or deleted in CHeKT, restored from the CRM): ${r.driftRepaired}`);
  const outcomes = r.dryRun ? ['planned', 'held'] : ['succeeded', 'failed', 'skipped', 'held', 'queued'];
  lines.push(`  ${'operation'.padEnd(10)}${outcomes.map((o) => o.padStart(11)).join('')}`);
  for (const kind of ['create', 'update', 'delete']) {
    const c = r.counts[kind] ?? {};
    lines.push(`  ${kind.padEnd(10)}${outcomes.map((o) => String(c[o] ?? 0).padStart(11)).join('')}`);
  }
  if (r.dryRun && r.plannedOperations.length > 0) {
    lines.push(`  would do:`);
    for (const o of r.plannedOperations.slice(0, 50)) lines.push(`    ${o.kind.padEnd(7)}${siteKey(o)} ${o.externalContactId}${o.reason ? ` (${o.reason.replaceAll('_', ' ')})` : ''}`);
    if (r.plannedOperations.length > 50) lines.push(`    … ${r.plannedOperations.length - 50} more (use --json)`);
  }
  for (const h of r.held) lines.push(`  site ${h.site} ON HOLD, ${h.deletes} delete(s) not made: ${h.reason}`);
  for (const s of r.sites.rejected) lines.push(`  site ${s.ref} not planned: ${s.reason}`);
  for (const s of r.sites.errors) lines.push(`  site ${s.site} not planned: ${s.error}`);
  for (const s of r.unmappedSites) {
    lines.push(`  CHeKT site ${s.site} holds ${s.contacts} contact(s) this service created, but no CRM site maps to it any more; left as they are`);
  }
  if (r.unreachableSites.length > 0) {
    lines.push(`  UNREACHABLE sites (${r.unreachableSites.length}): no contact can receive CHeKT's verification text (docs/REACHABILITY.md):`);
    for (const u of r.unreachableSites.slice(0, 20)) lines.push(`    ${u.site}: ${u.reason}`);
    if (r.unreachableSites.length > 20) lines.push(`    … ${r.unreachableSites.length - 20} more (use --json)`);
  }
  for (const s of r.reachableAgainSites) lines.push(`  site ${s.site} reachable again: ${s.smsCapable} SMS-capable contact(s)`);
  for (const x of r.reachProblems.slice(0, 20)) lines.push(`  contact ${x.site} ${x.externalContactId} not reachable by SMS: ${x.problem}`);
  for (const n of r.notes.slice(0, 20)) lines.push(`  note ${siteKey(n)} ${n.externalContactId} ${n.kind}: ${n.note}`);
  if (r.failures.length > 0) {
    lines.push(`  failures (${r.failures.length}):`);
    for (const f of r.failures.slice(0, 50)) lines.push(`    ${siteKey(f)} ${f.externalContactId} ${f.kind}: ${f.error ?? 'unknown'}`);
    if (r.failures.length > 50) lines.push(`    … ${r.failures.length - 50} more (use --json)`);
  }
  if (r.sourceProblems.length > 0) {
    lines.push(`  CRM rows left out by the source checks (${r.sourceProblems.length}; docs/CRM.md#bad-rows):`);
    for (const n of r.sourceProblems.slice(0, 20)) lines.push(`    site ${n.crmSiteId ?? '(none)'}${n.externalContactId === null ? '' : ` contact ${n.externalContactId}`}: ${n.reason}`);
    if (r.sourceProblems.length > 20) lines.push(`    … ${r.sourceProblems.length - 20} more (use --json)`);
  }
  if (r.invalid.length > 0) {
    lines.push(`  invalid contacts (${t?.invalid ?? r.invalid.length}):`);
    for (const n of r.invalid.slice(0, 20)) lines.push(`    ${n.site} ${n.externalContactId}: ${n.reason}`);
    if (r.invalid.length > 20) lines.push(`    … ${r.invalid.length - 20} more (use --json)`);
  }
  if (r.warnings.length > 0) {
    lines.push(`  field warnings (${t?.warnings ?? r.warnings.length}; the contact syncs without the field):`);
    for (const n of r.warnings.slice(0, 10)) lines.push(`    ${n.site} ${n.externalContactId}: ${n.reason}`);
    if (r.warnings.length > 10) lines.push(`    … ${r.warnings.length - 10} more (use --json)`);
  }
  return lines.join('\n');
}
