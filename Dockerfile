# syntax=docker/dockerfile:1
# butter-sync daemon image: `watch` on a clone of the content repository mounted at /content.

FROM node:22-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm 11 blocks dependency install scripts; nothing here needs them.
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:22-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends git tini ca-certificates openssh-client \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY src/config/sync.config.schema.json ./src/config/sync.config.schema.json
RUN ln -s /app/dist/cli/main.js /usr/local/bin/butter-sync && chmod +x /app/dist/cli/main.js \
  && useradd --create-home --uid 10001 --shell /usr/sbin/nologin butter \
  && mkdir -p /content && chown butter:butter /content
USER butter
# The mounted repo is usually owned by another uid: tell git it is safe (only this path).
RUN git config --global --add safe.directory /content
WORKDIR /content
VOLUME ["/content"]
ENV BUTTER_SYNC_PORT=8787
# Log collectors read JSON lines; a person at a terminal gets readable ones (README, "Output and logs").
ENV BUTTER_SYNC_LOG_FORMAT=json
EXPOSE 8787
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.BUTTER_SYNC_PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/cli/main.js"]
CMD ["watch", "--repo", "/content"]
