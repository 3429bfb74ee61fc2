import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { apiError } from './errors.js';

/**
 * Query-string validation for the `/api` routes: zod schemas over fastify's parsed query (strings; arrays for a
 * repeated parameter), answered 400 `invalid_request` naming the `field` when a value is bad or unknown.
 */

/**
 * An optional whole-number parameter in [min, max] (plain decimal digits), `dflt` when absent. Stricter than
 * `z.coerce.number()`, which reads "" as 0 and "1e3" as 1000.
 */
export function intParam(min: number, max: number, dflt: number) {
  return z
    .string()
    .refine((s) => /^[0-9]{1,9}$/.test(s) && Number(s) >= min && Number(s) <= max, `must be a whole number between ${min} and ${max}`)
    .transform(Number)
    .optional()
    .default(dflt);
}

/**
 * Parses `query` with `schema` (make it `.strict()` so a misspelt parameter is refused, not ignored).
 * On failure answers 400 with the first issue's field and returns undefined; the handler then returns `reply`.
 */
export function parseQuery<S extends z.ZodType>(schema: S, query: unknown, reply: FastifyReply): z.output<S> | undefined {
  const parsed = schema.safeParse(query ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.code === 'unrecognized_keys' ? issue.keys[0] : issue?.path.join('.');
  const message = issue?.code === 'unrecognized_keys' ? `unknown query parameter "${field}"` : `${field}: ${issue?.message ?? 'invalid'}`;
  void reply.code(400).send(apiError('invalid_request', message, field || undefined));
  return undefined;
}
