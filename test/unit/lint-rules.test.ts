import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';

/**
 * The layer rules of eslint.config.js (docs/ARCHITECTURE.md#layers), proven on probe modules that exist only as
 * text: each forbidden import is reported with its rule, and the allowed ones are not. The type-aware rule is
 * left out (a probe is not part of tsconfig.json); the cycle check is dependency-cruiser's (npm run lint). The
 * probes import modules that stay where they are, since an import that resolves to nothing is not checked.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const eslint = new ESLint({
  cwd: ROOT,
  overrideConfig: {
    languageOptions: { parserOptions: { project: null, projectService: false } },
    rules: { '@typescript-eslint/no-floating-promises': 'off', '@typescript-eslint/no-unused-vars': 'off' },
  },
});

/** The rule ids reported for `code` linted as if it were the file `path` (relative to the repository). */
async function reported(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${ROOT}${path}` });
  return result!.messages.map((m) => `${m.line}: ${m.ruleId ?? m.message}`);
}

describe('layer rules', () => {
  it('domain/ imports nothing else from src/ and no I/O library', async () => {
    const code = [
      "import type { ChektClient } from '../chekt/client.js';",
      "import { loadConfig } from '../config.js';",
      "import pino from 'pino';",
      "import { Queue } from 'bullmq';",
      "import { z } from 'zod';",
      "import { parsePhoneNumberWithError } from 'libphonenumber-js/max';",
      "import { createHash } from 'node:crypto';",
      "import { normalizeText } from './text.js';",
    ].join('\n');
    expect(await reported('src/domain/probe.ts', code)).toEqual(['1: import-x/no-restricted-paths', '2: import-x/no-restricted-paths', '3: no-restricted-imports', '4: no-restricted-imports']);
  });

  it('sync/ takes no generated Prisma client, http/ or cli/; source/ and domain/ are fine', async () => {
    const code = [
      "import type { Prisma } from '../generated/prisma/client.js';",
      "import { apiError } from '../http/errors.js';",
      "import '../cli/sync.js';",
      "import type { PrismaClient } from '../source/db.js';",
      "import { decideAction } from '../domain/decide.js';",
    ].join('\n');
    expect(await reported('src/sync/probe.ts', code)).toEqual(['1: import-x/no-restricted-paths', '2: import-x/no-restricted-paths', '3: import-x/no-restricted-paths']);
  });

  it('http/ takes nothing from cli/, from any depth', async () => {
    expect(await reported('src/http/routes/probe.ts', "import '../../cli/sync.js';\nimport { apiError } from '../errors.js';")).toEqual(['1: import-x/no-restricted-paths']);
  });

  it('the sandbox takes only logger.ts from the rest of src/', async () => {
    const code = "import { loadConfig } from '../config.js';\nimport { createLogger } from '../logger.js';\nimport { FaultInjector } from './faults.js';";
    expect(await reported('src/sandbox/probe.ts', code)).toEqual(['1: import-x/no-restricted-paths']);
  });

  it('nothing under src/ imports tools/; tools/ may import src/', async () => {
    expect(await reported('src/cli/probe.ts', "import { generateDemoData } from '../../tools/demo/data.js';")).toEqual(['1: import-x/no-restricted-paths']);
    expect(await reported('tools/demo/probe.ts', "import { createApp } from '../../src/app.js';")).toEqual([]);
  });
});
