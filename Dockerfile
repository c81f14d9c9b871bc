# Samtykke as a container image: `docker build -t samtykke .`
# Two stages: the first installs the production dependencies (npm ci
# --omit=dev, with the lock file, so the image holds exactly what was tested);
# the second carries them and the source only, and runs as the unprivileged
# `node` user. TypeScript runs through tsx's loader (a production dependency),
# as `npm start` does, so there is no build step whose output could drift from
# the source. No Docker engine runs on the machines this is developed on: the
# suite checks this file's shape (test/operations/containers.test.ts) but
# cannot build it.

FROM node:24-bookworm-slim AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
# allowScripts in package.json lets esbuild (tsx's compiler) run its install
# script and no other package; the cache goes with this stage.
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/var/lib/samtykke
WORKDIR /app
COPY --from=dependencies /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
COPY db ./db
COPY mjml ./mjml
COPY openapi ./openapi
# The data folder (outbox without SMTP_URL, import uploads) is the one place the
# service writes; the code stays owned by root and read-only to it.
RUN mkdir -p /var/lib/samtykke && chown node:node /var/lib/samtykke
VOLUME /var/lib/samtykke
USER node
EXPOSE 3000
# Ready, not merely alive: the database answers, the migrations are current and
# this process's workers and jobs run (GET /ready; /health is liveness only).
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node itself (not npm or a shell) is the process, so SIGTERM from `docker
# stop` reaches the server, which finishes the batch in hand and exits.
CMD ["node", "--import", "tsx", "src/server.ts"]
