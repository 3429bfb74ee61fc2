/** Limits of {@link statementNames}. */
export interface StatementNameLimits {
  /** Most statements named per process (each connection then holds at most this many prepared). Default 256. */
  readonly maxNamed?: number;
  /** Most statement texts remembered as seen once; the set is emptied past it. Default 500. */
  readonly maxSeen?: number;
  /** Longest statement text named, in characters: longer ones are bulk writes, planned in a small share of their time. Default 8192. */
  readonly maxLength?: number;
}

/**
 * The adapter's `statementNameGenerator`: a statement text seen a second time gets a name (`cks_1`, `cks_2`, …), so
 * node-postgres parses it once per connection and PostgreSQL keeps its plan (its plan cache chooses between a
 * plan per parameter set and a generic one, `plan_cache_mode`). Parsing and planning were more than half of
 * PostgreSQL's CPU per operation (docs/BENCHMARKS.md#what-stops-a-target-numbers-for-the-core). Texts seen once
 * (a list of a variable length, a bulk insert) stay unnamed, `''`, as do all texts past the limits, so the
 * prepared statements of a connection stay few. A transaction-mode pooler must support them (PgBouncer 1.21 or
 * later with `max_prepared_statements`); otherwise set `DB_PREPARED_STATEMENTS=false` (docs/DEPLOYMENT.md#postgresql).
 */
export function statementNames(limits: StatementNameLimits = {}): (query: { readonly sql: string }) => string {
  const maxNamed = limits.maxNamed ?? 256;
  const maxSeen = limits.maxSeen ?? 500;
  const maxLength = limits.maxLength ?? 8192;
  const named = new Map<string, string>();
  const seen = new Set<string>();
  return ({ sql }) => {
    const name = named.get(sql);
    if (name !== undefined) return name;
    if (named.size >= maxNamed || sql.length > maxLength) return '';
    if (!seen.delete(sql)) {
      if (seen.size >= maxSeen) seen.clear();
      seen.add(sql);
      return '';
    }
    const fresh = `cks_${named.size + 1}`;
    named.set(sql, fresh);
    return fresh;
  };
}
