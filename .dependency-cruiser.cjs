// The import-cycle check of `npm run lint` (docs/ARCHITECTURE.md#layers). dependency-cruiser rather than
// import-x/no-cycle because it counts type-only imports (`import type`) as edges: a cycle made of types is
// still two modules that cannot be understood, tested or moved apart, and import-x ignores those by design.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      severity: 'error',
      comment: 'Modules under src/ form no import cycle, type-only imports included (docs/ARCHITECTURE.md#layers).',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: ['node_modules'] },
    exclude: { path: ['^src/generated/'] },
    // Type-only imports are dependencies too.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
