import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Comments and docs cite only documents that ship with the repository (README "Development"): every
 * `docs/X.md` cited exists, every `#anchor` after it is a heading of that file, and nothing points at the team's private notes, the CHeKT seed file or an issue. Migrations are not scanned: a
 * migration's checksum is the sha256 of its file (docs/PLATFORM.md#prisma-without-the-engine), so an applied one
 * is never edited.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const THIS_FILE = relative(ROOT, fileURLToPath(import.meta.url));

/** Citations of documents that do not ship, with the reason each is refused. */
const FORBIDDEN: ReadonlyArray<{ pattern: RegExp; why: string }> = [
  { pattern: /\.\.\/shared\b|\bshared\/(notes|seed)\b/, why: 'a path outside the repository' },
  { pattern: /chekt-api\.md|crm-shapes|chekt-contacts-api\.txt/, why: "the team's private CHeKT notes" },
  { pattern: /platform\.md|STYLE\.md/, why: "the team's private notes" },
  { pattern: /\bnotes §\d|\bnotes "/, why: "the team's private notes" },
  { pattern: /\bseed "|\(seed[,)]|\(seed: "|\bseed's\b|\bin the seed\b/, why: 'the CHeKT seed file (cite docs/CHEKT-API.md)' },
  { pattern: /\b[Ii]ssues? (\d+|")/, why: 'an issue (cite the docs/ section that carries the rule)' },
];

/** A cited document, `docs/NAME.md` with an optional `#anchor`. */
const DOCS_CITATION = /\bdocs\/([A-Za-z0-9_-]+\.md)(#[\p{L}\p{N}_-]+)?/gu;
/** A relative Markdown link inside docs/ (`[x](NAME.md#anchor)`). */
const RELATIVE_LINK = /\]\(([A-Za-z0-9_-]+\.md)(#[^)\s]+)?\)/g;

/**
 * The anchor GitHub gives a heading (github-slugger): lower case, every character that is not a letter, mark,
 * digit, connector (`_`), space or hyphen removed, spaces turned into hyphens; repeats get `-1`, `-2`, ….
 */
export function headingSlugs(markdown: string): Set<string> {
  const slugs = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = m[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    slugs.add(n === 0 ? base : `${base}-${n}`);
  }
  return slugs;
}

/** Problems in one file's text; `dir` is the file's folder, relative to the repository root. */
export function citationProblems(text: string, dir: string, docExists: (doc: string) => Set<string> | undefined): string[] {
  const problems: string[] = [];
  text.split('\n').forEach((line, i) => {
    const at = `line ${i + 1}`;
    for (const { pattern, why } of FORBIDDEN) {
      const m = pattern.exec(line);
      if (m) problems.push(`${at}: "${m[0]}" cites ${why}`);
    }
    const cited = [...line.matchAll(DOCS_CITATION)].map((m) => ({ doc: `docs/${m[1]!}`, anchor: m[2] }));
    if (dir === 'docs') cited.push(...[...line.matchAll(RELATIVE_LINK)].map((m) => ({ doc: `docs/${m[1]!}`, anchor: m[2] })));
    for (const { doc, anchor } of cited) {
      const slugs = docExists(doc);
      if (!slugs) problems.push(`${at}: ${doc} does not exist`);
      else if (anchor && !slugs.has(decodeURIComponent(anchor.slice(1)))) problems.push(`${at}: ${doc} has no heading for ${anchor}`);
    }
  });
  return problems;
}

function walk(dir: string, keep: (path: string) => boolean): string[] {
  if (!existsSync(join(ROOT, dir))) return [];
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return path === join('src', 'generated') ? [] : walk(path, keep);
    return keep(path) ? [path] : [];
  });
}

const code = (path: string) => /\.(ts|js|cjs|mjs)$/.test(path);
const SCANNED = [
  ...['src', 'test', 'tools'].flatMap((dir) => walk(dir, code)),
  ...walk('docs', (p) => p.endsWith('.md')),
  ...walk('examples', (p) => /\.(md|sql)$/.test(p)),
  ...['README.md', 'Dockerfile', 'docker-compose.yml', '.env.example', 'prisma/schema.prisma', 'prisma.config.ts', 'jest.config.js', '.ci/run'],
].filter((path) => path !== THIS_FILE && existsSync(join(ROOT, path)));

const slugCache = new Map<string, Set<string> | undefined>();
function docSlugs(doc: string): Set<string> | undefined {
  if (!slugCache.has(doc)) slugCache.set(doc, existsSync(join(ROOT, doc)) ? headingSlugs(readFileSync(join(ROOT, doc), 'utf8')) : undefined);
  return slugCache.get(doc);
}

describe('doc citations', () => {
  it('slugs headings as GitHub does', () => {
    const slugs = headingSlugs('# Title\n## HTTP (`npm start`, port `HTTP_PORT`)\n```\n## not a heading\n```\n## Data rules (normalisation and validation)\n## 429\n## 429\n');
    expect([...slugs]).toEqual(['title', 'http-npm-start-port-http_port', 'data-rules-normalisation-and-validation', '429', '429-1']);
  });

  it('finds each kind of bad citation', () => {
    const docs = (doc: string) => (doc === 'docs/RETRIES.md' ? new Set(['backoff']) : undefined);
    const text = [
      ' * CHeKT counts per client (chekt-api.md §3).',
      ' * see ../shared/notes/platform.md',
      ' * (seed "Create a Contact"), the seed\'s example',
      ' * Issue 12, item 3: fencing; issue "Performance", point 1',
      ' * a number in the seed, restarted from the seed (a PRNG seed is fine)',
      ' * docs/RETRIES.md#backoff and docs/RETRIES.md#fencing and docs/NOPE.md',
      ' * docs/PLATFORM.md is fine as a name; so is a PRNG seed (seed: 7) and zod issues.',
    ].join('\n');
    expect(citationProblems(text, 'src', docs)).toEqual([
      'line 1: "chekt-api.md" cites the team\'s private CHeKT notes',
      'line 2: "../shared" cites a path outside the repository',
      'line 2: "platform.md" cites the team\'s private notes',
      'line 3: "seed "" cites the CHeKT seed file (cite docs/CHEKT-API.md)',
      'line 4: "Issue 12" cites an issue (cite the docs/ section that carries the rule)',
      'line 5: "in the seed" cites the CHeKT seed file (cite docs/CHEKT-API.md)',
      'line 6: docs/RETRIES.md has no heading for #fencing',
      'line 6: docs/NOPE.md does not exist',
      'line 7: docs/PLATFORM.md does not exist',
    ]);
  });

  it('scans the repository', () => {
    expect(SCANNED.length).toBeGreaterThan(200);
    expect(SCANNED).toEqual(expect.arrayContaining(['src/chekt/client.ts', 'docs/CHEKT-API.md', 'README.md', 'prisma/schema.prisma']));
  });

  it.each(SCANNED)('%s cites only documents that ship, and their headings', (path) => {
    const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '.';
    expect(citationProblems(readFileSync(join(ROOT, path), 'utf8'), dir, docSlugs)).toEqual([]);
  });
});
