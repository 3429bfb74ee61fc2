import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What the image ships (docs/DEPLOYMENT.md#the-image): `dist/` compiled from `src/` alone and the production
 * dependencies. So no module under src/ may load a dev dependency (faker, tsx…) or anything under tools/ (the
 * bench and the demo), or the compiled service would fail where `npm prune --omit=dev` ran.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
const build = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as { include: string[] };

function walk(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return path === join('src', 'generated') ? [] : walk(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Specifiers a module loads at run time: static imports and re-exports that are not `type`-only, and `import()`. */
export function runtimeImports(source: string): string[] {
  const statics = [...source.matchAll(/^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
  const dynamics = [...source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!);
  return [...statics, ...dynamics];
}

/** The package a bare specifier names (`@scope/name/sub` → `@scope/name`), or undefined for paths and built-ins. */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('node:') || builtinModules.includes(specifier)) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

describe('packaging', () => {
  it('reads runtime imports, leaving out type-only ones', () => {
    const source = [
      "import { Faker } from '@faker-js/faker/locale/en';",
      "import type { Queue } from 'bullmq';",
      "import './side-effect.js';",
      "export { x } from '../../tools/demo/data.js';",
      'const m = await import("tsx");',
    ].join('\n');
    expect(runtimeImports(source)).toEqual(['@faker-js/faker/locale/en', './side-effect.js', '../../tools/demo/data.js', 'tsx']);
    expect(runtimeImports(source).map(packageOf)).toEqual(['@faker-js/faker', undefined, undefined, 'tsx']);
  });

  it('builds src/ only, and faker is a dev dependency', () => {
    expect(build.include).toEqual(['src']);
    expect(pkg.dependencies).not.toHaveProperty('@faker-js/faker');
    expect(pkg.devDependencies).toHaveProperty('@faker-js/faker');
  });

  it('no module under src/ loads a dev dependency or tools/', () => {
    const files = walk('src');
    expect(files.length).toBeGreaterThan(100);
    const problems = files.flatMap((file) =>
      runtimeImports(readFileSync(join(ROOT, file), 'utf8')).flatMap((specifier) => {
        if (/(^|\/)tools\//.test(specifier)) return [`${file}: ${specifier} (tools/ is not in the image)`];
        const name = packageOf(specifier);
        return name && !(name in pkg.dependencies) ? [`${file}: ${specifier} (not a production dependency)`] : [];
      }),
    );
    expect(problems).toEqual([]);
  });
});
