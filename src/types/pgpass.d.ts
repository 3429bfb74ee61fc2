/** pgpass (node-postgres' ~/.pgpass reader) ships no types: the one function src/source/pgConnection.ts calls. */
declare module 'pgpass' {
  /** Calls `cb` with the password ~/.pgpass (or PGPASSFILE) holds for these settings, or with undefined. */
  export default function pgpass(
    settings: { host?: string | undefined; port?: number | string | undefined; database?: string | undefined; user?: string | undefined },
    cb: (password: string | undefined) => void,
  ): void;
}
