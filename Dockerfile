# CareHub hub image: docker compose build hub (see docker-compose.yml and docs/deploy.md).
# Build stage: full dev dependencies, TypeScript and console build.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 falls back to compiling when no prebuilt binary matches
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY hub ./hub
COPY devices-sim ./devices-sim
COPY dashboards/console ./dashboards/console
COPY bin ./bin
# native modules (better-sqlite3) and the build (`prepare` would run it too; explicit here)
RUN npm rebuild && npm run build && npm prune --omit=dev --no-audit --no-fund

# Runtime stage: production dependencies and the build only, as the unprivileged `node` user.
FROM node:20-bookworm-slim
# tini as PID 1: forwards SIGTERM to the hub and reaps children. Restarts are the supervisor's job
# (compose `restart: always`): a hub that hits a fatal error exits with status 70 to be restarted.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    CAREHUB_DATA_DIR=/data
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./package.json
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --from=build --chown=root:root /app/bin ./bin
COPY --from=build --chown=root:root /app/hub/locales ./hub/locales
COPY --from=build --chown=root:root /app/dashboards/console/dist ./dashboards/console/dist
COPY --chown=root:root config ./config
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 1883 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=4 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# V8 options: hub/src/node-flags.ts says why (a test keeps this line in step with it).
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--max-semi-space-size=32", "bin/carehub.js"]
CMD ["start", "--config", "/etc/carehub/carehub.yaml"]
