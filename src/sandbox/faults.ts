import type { SandboxFaults } from './types.js';

/**
 * Fault injection (docs/CHEKT-API.md#the-chekt-sandbox: 5xx, latency; plus dropped connections and
 * per-contact rejections). Decisions come from a seeded PRNG so a test run is reproducible: the same seed and
 * the same request sequence give the same faults. A rate of 0 or 1 decides without drawing, so switching a
 * fault fully on or off does not shift the sequence of the others.
 */

/** Defaults: no faults. */
export const DEFAULT_FAULTS: Readonly<SandboxFaults> = Object.freeze({
  latencyMs: 0,
  errorRate: 0,
  dropAfterCommitRate: 0,
  rejectExternalContactIds: [],
  storePhoneDigitsOnly: false,
  listLimit: 0,
  tokenLatencyMs: 0,
  tokenErrorRate: 0,
  retryAfterSeconds: 0,
  strictPhone: false,
  rejectFields: [],
  dropPhone: false,
});

/**
 * mulberry32: a tiny 32-bit PRNG, good enough for test faults (not for secrets).
 * @returns a function yielding floats in [0, 1).
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Merges `patch` into `base` and checks ranges.
 * @throws {RangeError} naming the bad field (rates outside 0..1, negative or non-finite latency).
 */
export function mergeFaults(base: SandboxFaults, patch: Partial<SandboxFaults>): SandboxFaults {
  const next: SandboxFaults = {
    latencyMs: patch.latencyMs ?? base.latencyMs,
    errorRate: patch.errorRate ?? base.errorRate,
    dropAfterCommitRate: patch.dropAfterCommitRate ?? base.dropAfterCommitRate,
    rejectExternalContactIds: [...(patch.rejectExternalContactIds ?? base.rejectExternalContactIds)],
    storePhoneDigitsOnly: patch.storePhoneDigitsOnly ?? base.storePhoneDigitsOnly,
    listLimit: patch.listLimit ?? base.listLimit,
    tokenLatencyMs: patch.tokenLatencyMs ?? base.tokenLatencyMs,
    tokenErrorRate: patch.tokenErrorRate ?? base.tokenErrorRate,
    retryAfterSeconds: patch.retryAfterSeconds ?? base.retryAfterSeconds,
    strictPhone: patch.strictPhone ?? base.strictPhone,
    rejectFields: [...(patch.rejectFields ?? base.rejectFields)],
    dropPhone: patch.dropPhone ?? base.dropPhone,
  };
  for (const key of ['latencyMs', 'tokenLatencyMs', 'retryAfterSeconds'] as const) {
    if (!Number.isFinite(next[key]) || next[key] < 0) throw new RangeError(`${key} must be >= 0, got ${next[key]}`);
  }
  for (const key of ['errorRate', 'dropAfterCommitRate', 'tokenErrorRate'] as const) {
    const v = next[key];
    if (!Number.isFinite(v) || v < 0 || v > 1) throw new RangeError(`${key} must be within 0..1, got ${v}`);
  }
  return next;
}

/** Options for {@link FaultInjector}. */
export interface FaultInjectorOptions {
  /** PRNG seed (default 1 in the sandbox options). */
  readonly seed: number;
  readonly faults?: Partial<SandboxFaults> | undefined;
}

/** Holds the current faults and draws decisions from one seeded stream. */
export class FaultInjector {
  private current: SandboxFaults;
  private random: () => number;

  constructor(private readonly options: FaultInjectorOptions) {
    this.current = mergeFaults({ ...DEFAULT_FAULTS, rejectExternalContactIds: [], rejectFields: [] }, options.faults ?? {});
    this.random = mulberry32(options.seed);
  }

  /** A copy of the current faults. */
  get faults(): SandboxFaults {
    return { ...this.current, rejectExternalContactIds: [...this.current.rejectExternalContactIds], rejectFields: [...this.current.rejectFields] };
  }

  /** Merges a partial change. @throws {RangeError} as {@link mergeFaults}. */
  set(patch: Partial<SandboxFaults>): void {
    this.current = mergeFaults(this.current, patch);
  }

  /** Decides whether this `/partner` request is answered 503. */
  shouldFailRequest(): boolean {
    return this.draw(this.current.errorRate);
  }

  /** Decides whether this `/oauth/token` request is answered 503. */
  shouldFailToken(): boolean {
    return this.draw(this.current.tokenErrorRate);
  }

  /** Decides whether this committed write is answered by destroying the socket. */
  shouldDropWrite(): boolean {
    return this.draw(this.current.dropAfterCommitRate);
  }

  /** The list as answered: all of it, or its first `listLimit` contacts. */
  page<T>(list: T[]): T[] {
    return this.current.listLimit > 0 ? list.slice(0, this.current.listLimit) : list;
  }

  /** The phone as stored: unchanged, or digits only when `storePhoneDigitsOnly` is on. */
  storedPhone(phone: string | null | undefined): string | null | undefined {
    if (this.current.dropPhone && phone !== undefined) return null;
    if (!this.current.storePhoneDigitsOnly || !phone) return phone;
    return phone.replace(/\D/g, '');
  }

  /** The field of a write body refused by `strictPhone` or `rejectFields`, or undefined. */
  refusedField(body: { readonly phone_number?: string | null | undefined; readonly email?: string | null | undefined }): string | undefined {
    for (const field of ['phone_number', 'email'] as const) {
      const v = body[field];
      if (v && this.current.rejectFields.includes(field)) return field;
    }
    const phone = body.phone_number;
    if (this.current.strictPhone && phone && !/^\+?\d{7,15}$/.test(phone)) return 'phone_number';
    return undefined;
  }

  /** Whether writes for this `external_contact_id` are refused with 400. */
  rejects(externalContactId: string): boolean {
    return this.current.rejectExternalContactIds.includes(externalContactId);
  }

  /** Restarts the PRNG from the seed (faults kept). */
  reseed(): void {
    this.random = mulberry32(this.options.seed);
  }

  private draw(rate: number): boolean {
    if (rate <= 0) return false;
    if (rate >= 1) return true;
    return this.random() < rate;
  }
}
