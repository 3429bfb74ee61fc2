# chekt-contact-sync: one image for the service (the default command), the CLI (`npm run sync`,
# `npm run status`, `npm run db:migrate`) and the CHeKT sandbox (`npm run sandbox`). See docs/DEPLOYMENT.md.
#   docker build -t chekt-contact-sync .
#   docker run --init -v "$PWD/.env:/app/.env:ro" -p 3000:3000 chekt-contact-sync
#   docker run --rm -v "$PWD/.env:/app/.env:ro" chekt-contact-sync npm run sync -- --dry-run
# Every process reads /app/.env itself (Node's parser, quotes as in .env.example); `docker run --env-file` would
# keep the double quotes of .env.example's values, so mount the file or use docker compose (env_file).
# The first stage compiles the TypeScript (tsc) to dist/; the runtime stage ships dist/, the migrations and the
# production dependencies only (no TypeScript, no tsx, no Prisma CLI, no faker). The bench and the demo live in
# tools/, outside src/, so neither the build context nor dist/ holds them (.dockerignore).

# --- build: every dependency, the Prisma client, tsc, then drop the dev dependencies ------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false
COPY package.json package-lock.json ./
# --ignore-scripts: no dependency install script is needed (esbuild and msgpackr ship prebuilt or JS
# fallbacks), and Prisma's would try to download engines; our own postinstall and prepare run below.
RUN npm ci --ignore-scripts
COPY prisma.config.ts tsconfig.json tsconfig.build.json ./
COPY prisma ./prisma
# The Rust-free `prisma-client` generator needs no engine; prisma.config.ts points the CLI at a stand-in
# executable when the schema engine was not downloaded (air-gapped builds work). It writes TypeScript to
# src/generated/prisma, which tsc compiles with the rest.
RUN npx prisma generate
COPY src ./src
RUN npm run build && npm prune --omit=dev

# --- runtime ------------------------------------------------------------------------------------------------
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false
COPY --from=build /app/package.json /app/package-lock.json ./
# db:migrate reads prisma/migrations (src/db/migrate.ts).
COPY --from=build /app/prisma/migrations ./prisma/migrations
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
# 3000: HTTP_PORT (dashboard, API, /healthz); 4010: SANDBOX_PORT when the image runs `npm run sandbox`.
EXPOSE 3000 4010
# Liveness of the service (the default command): /healthz answers 200 while the HTTP server runs. Containers
# that run another command (the sandbox, db:migrate) set their own check or none (docker-compose.yml).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=6 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node itself is the program (no npm in between), so SIGTERM reaches it and it drains its jobs within
# SHUTDOWN_TIMEOUT_MS; run with `--init` (compose: `init: true`) so zombies are reaped when it is PID 1.
CMD ["node", "dist/main.js"]
