# Clearway for docker-compose.yml: connects to the Postgres and Temporal given in DATABASE_URL and
# TEMPORAL_ADDRESS, so neither embedded service runs in the container.
FROM node:20-bookworm-slim

WORKDIR /app
ENV NODE_ENV=production

COPY package.json package-lock.json ./
# `npm ci` runs the root package's `prepare` script, the Temporal UI build; without the development
# dependencies it only says the UI is not built (this image uses the temporalio/ui container instead).
COPY devserver/ui/app/package.json devserver/ui/app/build.js devserver/ui/app/
RUN npm ci --omit=dev --no-audit --no-fund

COPY --chown=node:node . .
# npm runs no install scripts, so the Prisma client is generated explicitly.
RUN node node_modules/prisma/build/index.js generate && chown -R node:node /app/generated

USER node
ENV HOST=0.0.0.0 PORT=3000
EXPOSE 3000
CMD ["node", "bin/clearway", "start"]
