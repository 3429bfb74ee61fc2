/**
 * Alert payloads (docs/CONSOLE.md "Alerts"): one JSON object per state change, with `event` naming it, sites as
 * `dealerId/siteId`, and a `text` line that Slack and Teams incoming webhooks post as it is. Ids and reasons
 * only: never a contact's name, phone or email. Pure.
 */

/** Every event the alerter sends. */
export type AlertEvent = 'hold.created' | 'hold.cleared' | 'sync.behind' | 'sync.caught_up' | 'operations.failed' | 'site.unreachable' | 'site.reachable';

/** A failed-for-good contact in an `operations.failed` batch. */
export interface FailedItem {
  readonly site: string;
  readonly externalContactId: string;
  readonly kind: string;
  readonly error: string | null;
}

/** The facts of one state change. */
export type AlertFacts =
  | { readonly event: 'hold.created'; readonly site: string; readonly reason: string; readonly deletes: number; readonly managed: number; readonly since: string }
  | { readonly event: 'hold.cleared'; readonly site: string; readonly reason: string }
  | { readonly event: 'sync.behind'; readonly site: string; readonly externalContactId: string; readonly ageSeconds: number; readonly thresholdSeconds: number }
  | { readonly event: 'sync.caught_up'; readonly thresholdSeconds: number }
  | { readonly event: 'operations.failed'; readonly total: number; readonly items: readonly FailedItem[]; readonly from: string; readonly to: string }
  /** An enabled site has no contact CHeKT can text (docs/REACHABILITY.md): `contacts` live ones, `reason` in words. */
  | { readonly event: 'site.unreachable'; readonly site: string; readonly contacts: number; readonly reason: string }
  /**
   * A site announced unreachable can be texted again (`smsCapable` > 0 of `contacts`), or is no longer watched
   * (`sync_enabled` false or gone from the CRM: `contacts` and `smsCapable` null); `reason` in words.
   */
  | { readonly event: 'site.reachable'; readonly site: string; readonly contacts: number | null; readonly smsCapable: number | null; readonly reason: string };

/** Most failed contacts listed in one `operations.failed` alert (`total` counts them all). */
export const FAILED_ITEMS_LIMIT = 100;

const PREFIX = 'chekt-contact-sync:';

/** The `text` line of an alert. */
export function alertText(f: AlertFacts): string {
  switch (f.event) {
    case 'hold.created':
      return `${PREFIX} deletes held on site ${f.site} (${f.deletes} of ${f.managed} managed contacts): ${f.reason}. Review and approve in the console: /console/sites/${f.site}`;
    case 'hold.cleared':
      return `${PREFIX} the deletion hold on site ${f.site} is cleared (approved, or the CRM lists the contacts again).`;
    case 'sync.behind':
      return `${PREFIX} a CRM change has not reached CHeKT for ${f.ageSeconds} s (over ${f.thresholdSeconds} s): site ${f.site}, external_contact_id ${f.externalContactId}.`;
    case 'sync.caught_up':
      return `${PREFIX} caught up: no CRM change waits longer than ${f.thresholdSeconds} s.`;
    case 'site.unreachable':
      return `${PREFIX} site ${f.site} is unreachable: no contact CHeKT can text (${f.reason}). Add a mobile number in the CRM: /console/sites/${f.site}`;
    case 'site.reachable':
      return f.smsCapable === null
        ? `${PREFIX} site ${f.site} is no longer reported unreachable: ${f.reason}.`
        : `${PREFIX} site ${f.site} is reachable again: ${f.smsCapable} of ${f.contacts} contacts CHeKT can text (${f.reason}).`;
    case 'operations.failed': {
      const shown = f.items.slice(0, 5).map((i) => `${i.site} ${i.externalContactId} ${i.kind}: ${i.error ?? 'unknown'}`);
      return `${PREFIX} ${f.total} contact(s) failed for good: ${shown.join('; ')}${f.total > shown.length ? `; … ${f.total - shown.length} more` : ''}`;
    }
  }
}

/** The JSON body POSTed for `facts`: `{id, event, at, text, ...facts}`. */
export function alertBody(id: string, at: string, facts: AlertFacts): Record<string, unknown> {
  return { id, at, ...facts, text: alertText(facts) };
}
