import type { PlannedOperation } from '../domain/plan.js';
import type { PrismaClient } from './db.js';

/**
 * The newest operation still `queued` under one job id (`op_key`) in a running run, as a planned operation, so
 * its job can be enqueued again after Redis lost or mangled it (recovery/unreadableJobs.ts). Null when every
 * operation of that key is settled. `approveDeletes`: the run was an operator's approval (its deletes skip the minimum check). Older runs waiting on the same key are settled by the new job
 * (source/runs.ts `finishOperation` settles every queued row of the key whose run read the CRM no later).
 */
export async function newestQueuedByOpKey(
  db: PrismaClient,
  opKey: string,
): Promise<{ runId: string; approveDeletes: boolean; operation: PlannedOperation } | null> {
  const r = await db.syncOperation.findFirst({
    where: { opKey, outcome: 'queued', run: { status: 'running' } },
    orderBy: { createdAt: 'desc' },
    include: { run: { select: { approveDeletes: true } } },
  });
  if (!r) return null;
  return {
    runId: r.runId,
    approveDeletes: r.run.approveDeletes,
    operation: {
      kind: r.kind as PlannedOperation['kind'],
      opKey: r.opKey,
      dealerId: r.chektDealerId,
      siteId: r.chektSiteId,
      crmSiteId: r.crmSiteId ?? '',
      externalContactId: r.externalContactId,
      chektContactId: r.chektContactId,
      reason: (r.reason ?? 'missing_in_chekt') as PlannedOperation['reason'],
      fields: [],
    },
  };
}
