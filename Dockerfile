# Tributary bus image. Build: docker build -t tributary .
# It listens on 0.0.0.0, so it refuses to start without an API key in its store: give it an admin
# key in a file (TRIBUTARY_ADMIN_KEY_FILE), which it stores hashed as the first key of a new store
# and prints nowhere. Make one with: docker run --rm tributary keys generate > admin.key
# The README's "Running in containers" shows docker run and compose; a test runs this image's
# command and environment as a plain process (packages/bus/src/e2e/container.e2e.test.ts).
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json tsconfig.base.json ./
COPY packages/protocol/package.json packages/protocol/
COPY packages/client/package.json packages/client/
COPY packages/bus/package.json packages/bus/
RUN npm ci --no-audit --no-fund
COPY packages packages
# Optional too: the test tooling (vitest, an optional peer of the testing entry) stays out.
RUN npx tsc -b && npm prune --omit=dev --omit=optional

FROM node:20-bookworm-slim
ENV NODE_ENV=production TRIBUTARY_HOST=0.0.0.0 TRIBUTARY_PORT=4700
WORKDIR /app
COPY --from=build /app /app
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 4700
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "packages/bus/bin/tributary.js"]
CMD ["serve"]
