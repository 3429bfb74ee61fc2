# chekt-contact-sync: one image for the service (`npm start`, the default), the CLI (`npm run sync`,
# `npm run status`, `npm run db:migrate`) and the CHeKT sandbox (`npm run sandbox`).
#   docker build -t chekt-contact-sync .
#   docker run --init --env-file .env -p 3000:3000 chekt-contact-sync
#   docker run --rm --env-file .env chekt-contact-sync npm run sync -- --dry-run
# The code runs as TypeScript through tsx (a production dependency), exactly as on a workstation: no build step.

# --- build: every dependency, then the Prisma client, then drop the dev dependencies ------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false
COPY package.json package-lock.json ./
# --ignore-scripts: no dependency install script is needed (esbuild and msgpackr ship prebuilt or JS
# fallbacks), and Prisma's would try to download engines; our own postinstall (`prisma generate`) runs below.
RUN npm ci --ignore-scripts
COPY prisma.config.ts tsconfig.json ./
COPY prisma ./prisma
# The Rust-free `prisma-client` generator needs no engine; prisma.config.ts points the CLI at a stand-in
# executable when the schema engine was not downloaded (air-gapped builds work).
RUN npx prisma generate
COPY src ./src
RUN npm prune --omit=dev

# --- runtime ------------------------------------------------------------------------------------------------
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false
COPY --from=build /app/package.json /app/package-lock.json /app/tsconfig.json /app/prisma.config.ts ./
COPY --from=build /app/prisma ./prisma
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/src ./src
USER node
# 3000: HTTP_PORT (dashboard, API, /healthz); 4010: SANDBOX_PORT when the image runs `npm run sandbox`.
EXPOSE 3000 4010
# npm forwards SIGTERM/SIGINT to the service, which drains its jobs (SHUTDOWN_TIMEOUT_MS); run with `--init`
# (compose: `init: true`) so a signal also reaches it when npm is PID 1.
CMD ["npm", "start"]
