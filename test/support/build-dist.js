// Step 1 of the integration tiers' jest globalSetup (global-setup.js): the tests that spawn the service or the CLI
// run the compiled build (dist/), as production does (docs/DEPLOYMENT.md). Rebuild it when any file under src/ (or
// the build config) is newer than the last build, so `npx jest <file>` after an edit never runs stale JavaScript.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const STAMP = 'dist/.build-stamp';

function newestMtime(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

function stampMtime() {
  try {
    return statSync(STAMP).mtimeMs;
  } catch {
    return 0;
  }
}

export default function buildDist() {
  const sources = Math.max(newestMtime('src'), newestMtime('tsconfig.json'), newestMtime('tsconfig.build.json'), newestMtime('package.json'));
  if (stampMtime() > sources) return;
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  writeFileSync(STAMP, `${new Date().toISOString()}\n`);
}
