# syntax=docker/dockerfile:1
# Build: compile TypeScript, build better-sqlite3, import the bundled encoder.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc tsconfig.json ./
COPY src ./src
COPY console ./console
COPY models/README.md ./models/README.md
# `npm ci` runs `prepare`: tsc, the console's bundle (dist/console), then the importer writes models/all-MiniLM-L6-v2 and models/all-MiniLM-L6-v2-int8 (no network beyond npm).
RUN npm ci --no-audit --no-fund \
 && npm prune --omit=dev

# Run: no compilers, no dev dependencies, non-root.
FROM node:20-bookworm-slim
ENV NODE_ENV=production PORT=8080
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/models ./models
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 8080
VOLUME ["/app/data"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Node as PID 1 gets SIGTERM directly and drains in-flight requests before exiting.
CMD ["node", "dist/src/main.js"]
