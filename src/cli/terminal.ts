/**
 * Width the tables of `npm run status` and `npm run source:check` fit: the terminal's, else `COLUMNS` when set
 * (`COLUMNS=100 npm run status | less`), else none: a pipe or a log gets every cell in full, as `--json` does.
 */
export function terminalWidth(): number | undefined {
  if (process.stdout.isTTY && process.stdout.columns > 0) return process.stdout.columns;
  const columns = Number(process.env.COLUMNS);
  return Number.isInteger(columns) && columns >= 20 ? columns : undefined;
}
