import { createCrmSource, type CrmSource } from './crm/database.js';
import type { CrmRelations } from './crm/sql.js';
import { createDatabase, type PrismaClient, type RunSql } from './db.js';

/**
 * The two connections every reader of sync state needs (docs/CRM.md#our-state-apart): the service's own database
 * (`DATABASE_URL`, tables in `DATABASE_SCHEMA`) and the partner's CRM (`CRM_DATABASE_URL`, read only). The app
 * (wiring/types.ts `App`) is one; the CLIs open their own with {@link openConnections}.
 */
export interface Connections {
  /** Prisma's client of `DATABASE_URL`. */
  readonly db: PrismaClient;
  /** Statements on the same pool through node-postgres. */
  readonly sql: RunSql;
  readonly crm: CrmSource;
}

/** Options of {@link openConnections}. */
export interface ConnectionOptions {
  readonly databaseUrl: string;
  /** `DATABASE_SCHEMA`. Default `public`. */
  readonly schema?: string;
  readonly crm: { readonly databaseUrl: string } & CrmRelations;
  /** Connections per pool. Default 4. */
  readonly poolSize?: number;
  /** Longest wait for a connection, in ms. Default 10,000. */
  readonly connectionTimeoutMs?: number;
}

/** Opens both pools (lazily: nothing connects before the first statement); `close` ends both. */
export function openConnections(options: ConnectionOptions): Connections & { close(): Promise<void> } {
  const poolSize = options.poolSize ?? 4;
  const connectionTimeoutMs = options.connectionTimeoutMs ?? 10_000;
  const { prisma, sql } = createDatabase({ databaseUrl: options.databaseUrl, poolSize, connectionTimeoutMs, ...(options.schema ? { schema: options.schema } : {}) });
  const crm = createCrmSource({ databaseUrl: options.crm.databaseUrl, relations: options.crm, poolSize, connectionTimeoutMs });
  return {
    db: prisma,
    sql,
    crm,
    close: async () => {
      await Promise.all([prisma.$disconnect(), crm.close().catch(() => undefined)]);
    },
  };
}
