# Every irlkit image, one target each (build context: the repository root; docker-compose.yml names the target):
#   docker build --target ingest .      the SRT / SRTLA doors and srt-live-transmit
#   docker build --target obs-bridge .  drives OBS over obs-websocket, runs the switcher and the OBS watchdog
#   docker build --target chat .        Twitch chat commands, turned into the dashboard's NATS commands
#   docker build --target restream .    the relay OBS streams to, one ffmpeg copy per destination, the recording
#   docker build --target dashboard .   the Next.js web UI behind server.ts
#   docker build --target desktop .     Xvfb + OBS Studio, provisioned and supervised by the desktop service
#   docker build --target xpra .        xpra's HTML5 client shadowing OBS's X display
#   docker build --target nats .        nats-server with JetStream
#   docker build --target caddy .       the HTTPS door in front of the dashboard and the desktop
#   docker build --target init .        compose's one-shot init: generates the secrets on first start
# Every image that takes secrets starts through irlkit-secrets (services/init/with-secrets.sh), which fills
# the variables the environment leaves empty from the file the init service wrote for that container.
# The node services share three stages: `workspace` (pnpm and every manifest, so the frozen lockfile matches
# the workspace; each service then installs only its own dependencies), `services-build` (each service's
# TypeScript compiled into one file, dist/, by scripts/build-services.ts) and `node-runtime` (the user).
# The images run plain JavaScript (`node dist/main.js`): no TypeScript loader in a running service.

FROM node:22-bookworm-slim AS workspace
RUN npm install -g --no-fund --no-audit pnpm@10.34.8
WORKDIR /app
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY packages/shared/package.json packages/shared/
COPY services/ingest/package.json services/ingest/
COPY services/obs-bridge/package.json services/obs-bridge/
COPY services/desktop/package.json services/desktop/
COPY services/dashboard/package.json services/dashboard/
COPY services/chat/package.json services/chat/
COPY services/restream/package.json services/restream/
COPY test/package.json test/
ENV CI=true NEXT_TELEMETRY_DISABLED=1

# The compiler (esbuild, run by tsx) and what the bundles take in: the shared package and its dependencies.
# Each service's own npm dependencies stay outside its bundle; its image installs them.
FROM workspace AS services-build
RUN pnpm install --frozen-lockfile --filter irlkit... --reporter=append-only
COPY tsconfig.base.json ./
COPY scripts/build-services.ts scripts/
COPY packages/shared/src packages/shared/src
COPY services/ingest/src services/ingest/src
COPY services/obs-bridge/src services/obs-bridge/src
COPY services/desktop/src services/desktop/src
COPY services/chat/src services/chat/src
COPY services/restream/src services/restream/src
COPY services/dashboard/server.ts services/dashboard/
COPY services/dashboard/lib services/dashboard/lib
RUN node_modules/.bin/tsx scripts/build-services.ts

FROM node:22-bookworm-slim AS node-runtime
RUN useradd --create-home --uid 10001 irlkit
COPY services/init/with-secrets.sh /usr/local/bin/irlkit-secrets
ENV NODE_ENV=production IRL_ENV_FILE=/nonexistent
ENTRYPOINT ["/usr/local/bin/irlkit-secrets"]

# ── ingest ────────────────────────────────────────────────────────────────────────────────────────
FROM workspace AS ingest-deps
RUN pnpm install --frozen-lockfile --prod --filter @irlkit/ingest... --reporter=append-only
COPY --from=services-build /app/services/ingest/dist services/ingest/dist

FROM node-runtime AS ingest
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends srt-tools >/dev/null \
 && rm -rf /var/lib/apt/lists/*
COPY --from=ingest-deps /app /app
WORKDIR /app/services/ingest
USER irlkit
EXPOSE 9000/udp 5000/udp
# Healthy while srt-live-transmit runs and the SRT door is bound (ports from the environment).
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "const fs=require('fs');const port=Number(process.env.SRT_PORT||9000).toString(16).toUpperCase().padStart(4,'0');const udp=['/proc/net/udp','/proc/net/udp6'].map(f=>{try{return fs.readFileSync(f,'utf8')}catch{return ''}}).join('');const slt=fs.readdirSync('/proc').some(p=>{try{return fs.readFileSync('/proc/'+p+'/comm','utf8').startsWith('srt-live-trans')}catch{return false}});process.exit(udp.includes(':'+port+' ')&&slt?0:1)"]
CMD ["node", "--no-opt", "--v8-pool-size=1", "dist/main.js"]

# ── obs-bridge ────────────────────────────────────────────────────────────────────────────────────
FROM workspace AS obs-bridge-deps
RUN pnpm install --frozen-lockfile --prod --filter @irlkit/obs-bridge... --reporter=append-only
COPY --from=services-build /app/services/obs-bridge/dist services/obs-bridge/dist

FROM node-runtime AS obs-bridge
COPY --from=obs-bridge-deps /app /app
COPY services/obs-bridge/docker-entrypoint.sh /usr/local/bin/obs-bridge-entrypoint
WORKDIR /app/services/obs-bridge
# The API listens on the internal network only (compose publishes nothing of it).
ENV BRIDGE_HOST=0.0.0.0 OBS_WATCHDOG_MODE=docker
# Starts as root only to join the Docker socket's group, whatever its id on this host, then runs as
# irlkit (uid 10001) with no capabilities (services/obs-bridge/docker-entrypoint.sh).
ENTRYPOINT ["/usr/local/bin/obs-bridge-entrypoint"]
EXPOSE 8090
# Healthy while the API answers and NATS is connected (OBS being down is the watchdog's business).
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.BRIDGE_PORT||8090)+'/healthz').then(r=>r.json()).then(b=>process.exit(b.nats?0:1),()=>process.exit(1))"]
CMD ["node", "--no-opt", "--v8-pool-size=1", "dist/main.js"]

# ── chat ──────────────────────────────────────────────────────────────────────────────────────────
FROM workspace AS chat-deps
RUN pnpm install --frozen-lockfile --prod --filter @irlkit/chat... --reporter=append-only
COPY --from=services-build /app/services/chat/dist services/chat/dist

FROM node-runtime AS chat
COPY --from=chat-deps /app /app
WORKDIR /app/services/chat
USER irlkit
# No port: it only dials out (Twitch chat, NATS). Healthy while its process lives; its heartbeat on NATS
# says whether it is in the channel.
CMD ["node", "--lite-mode", "--no-expose-wasm", "--v8-pool-size=1", "dist/main.js"]

# ── restream ──────────────────────────────────────────────────────────────────────────────────────
FROM workspace AS restream-deps
RUN pnpm install --frozen-lockfile --prod --filter @irlkit/restream... --reporter=append-only
COPY --from=services-build /app/services/restream/dist services/restream/dist

FROM node-runtime AS restream
# nginx with the RTMP module is the relay; ffmpeg copies (never encodes) to each destination and records.
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light libnginx-mod-rtmp ffmpeg ca-certificates >/dev/null \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /recordings && chown irlkit:irlkit /recordings
COPY --from=restream-deps /app /app
WORKDIR /app/services/restream
ENV RESTREAM_RELAY_BIND=0.0.0.0 RECORDING_DIR=/recordings
USER irlkit
VOLUME ["/recordings"]
EXPOSE 1935
# Healthy while nginx (the relay) listens on its port.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "const s=require('net').connect(Number(process.env.RESTREAM_RELAY_PORT||1935),'127.0.0.1');s.on('connect',()=>process.exit(0));s.on('error',()=>process.exit(1))"]
# No --lite-mode: it turns WebAssembly off, and in its container the service loads Node's undici (its HTTP parser
# is WebAssembly): it crash-looped at start with "WebAssembly is not defined". The same flags as its start script.
CMD ["node", "--no-opt", "--v8-pool-size=1", "dist/main.js"]

# ── dashboard ─────────────────────────────────────────────────────────────────────────────────────
# next build type-checks, so it needs the dev dependencies (typescript, @types/*).
FROM workspace AS dashboard-build
RUN pnpm install --frozen-lockfile --filter @irlkit/dashboard... --filter irlkit --reporter=append-only
COPY tsconfig.base.json ./
COPY packages/shared/src packages/shared/src
COPY packages/shared/tsconfig.json packages/shared/
COPY services/dashboard services/dashboard
RUN pnpm --filter @irlkit/dashboard run build

FROM workspace AS dashboard-deps
RUN pnpm install --frozen-lockfile --prod --filter @irlkit/dashboard... --reporter=append-only

# The Next build (pages, API routes and what they import, compiled by Next) and server.ts compiled with
# lib/ and the shared package into dist/server.js: no TypeScript source in the image.
FROM node:22-bookworm-slim AS dashboard
RUN useradd --create-home --uid 10001 irlkit
COPY services/init/with-secrets.sh /usr/local/bin/irlkit-secrets
COPY --from=dashboard-deps /app /app
COPY --from=dashboard-build /app/services/dashboard/.next /app/services/dashboard/.next
COPY --from=dashboard-build /app/services/dashboard/next.config.mjs /app/services/dashboard/
COPY --from=services-build /app/services/dashboard/dist /app/services/dashboard/dist
# Where compose mounts the restream service's recordings volume read-only, for downloads (owned by irlkit, so
# the volume is the restream user's to write whichever container mounts it first).
RUN mkdir -p /recordings && chown irlkit:irlkit /recordings
WORKDIR /app/services/dashboard
ENV NODE_ENV=production IRL_ENV_FILE=/nonexistent NEXT_TELEMETRY_DISABLED=1 DASHBOARD_PORT=8080
USER irlkit
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/irlkit-secrets"]
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.DASHBOARD_PORT||8080)+'/login').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--no-opt", "--v8-pool-size=1", "dist/server.js"]

# ── desktop (the desktop service: Xvfb + OBS) ─────────────────────────────────────────────────────
FROM workspace AS desktop-deps
RUN pnpm install --frozen-lockfile --prod --filter @irlkit/desktop... --reporter=append-only
COPY --from=services-build /app/services/desktop/dist services/desktop/dist
COPY services/desktop/src/obs-healthcheck.mjs services/desktop/src/
COPY services/desktop/assets services/desktop/assets

FROM node-runtime AS desktop
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends obs-studio xvfb fonts-dejavu-core ca-certificates >/dev/null \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /config /tmp/.X11-unix && chown irlkit:irlkit /config && chmod 1777 /tmp/.X11-unix
COPY --from=desktop-deps /app /app
WORKDIR /app/services/desktop
ENV OBS_CONFIG_DIR=/config DESKTOP_DISPLAY=:99
USER irlkit
VOLUME ["/config"]
EXPOSE 4455
# Healthy once obs-websocket completes its handshake (Hello, Identify, Identified): a frozen OBS still
# accepts TCP connections, so a bare connect would call it healthy. Through irlkit-secrets: a healthcheck
# does not inherit what the entrypoint exported, and the password may come from compose's init.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["/usr/local/bin/irlkit-secrets", "node", "src/obs-healthcheck.mjs"]
CMD ["node", "--lite-mode", "--no-expose-wasm", "--v8-pool-size=1", "dist/main.js"]

# ── xpra (the OBS desktop in a browser) ───────────────────────────────────────────────────────────
FROM debian:bookworm-slim AS xpra
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends xpra libjs-jquery python3-pil >/dev/null \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10002 desktop
COPY services/desktop/xpra-entrypoint.sh /usr/local/bin/xpra-entrypoint
COPY services/init/with-secrets.sh /usr/local/bin/irlkit-secrets
COPY services/desktop/xpra-shadow.sh /usr/local/bin/xpra-shadow
COPY services/desktop/xpra-door.py /usr/local/bin/xpra-door
USER desktop
WORKDIR /home/desktop
# Xvfb runs in the desktop container, in another IPC namespace: no shared-memory screen reads (XShm).
ENV DESKTOP_DISPLAY=:99 DESKTOP_PORT=14500 XDG_RUNTIME_DIR=/tmp/xpra-run XPRA_XSHM=0
EXPOSE 14500
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python3", "-c", "import os,urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/' % os.environ.get('DESKTOP_PORT','14500'), timeout=4)"]
ENTRYPOINT ["/usr/local/bin/irlkit-secrets", "/usr/local/bin/xpra-entrypoint"]

# ── nats ──────────────────────────────────────────────────────────────────────────────────────────
# nats-server from Debian with JetStream (settings survive restarts on the data volume) and one user per
# service (users.conf), each password from the environment. Runs as the package's `nats` user.
FROM debian:bookworm-slim AS nats
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nats-server curl >/dev/null \
 && rm -rf /var/lib/apt/lists/* \
 && id nats \
 && mkdir -p /data && chown nats:nats /data
COPY services/nats/nats.conf services/nats/users.conf /etc/nats/
COPY services/init/with-secrets.sh /usr/local/bin/irlkit-secrets
# One node of a cluster (deploy/swarm/stack.yml): the same configuration plus routes to the other nodes.
COPY services/nats/cluster.sh /usr/local/bin/nats-cluster
USER nats
VOLUME ["/data"]
EXPOSE 4222
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=5 \
  CMD ["curl", "-fsS", "http://127.0.0.1:8222/healthz?js-enabled-only=true"]
ENTRYPOINT ["/usr/local/bin/irlkit-secrets"]
CMD ["nats-server", "-c", "/etc/nats/nats.conf"]

# ── caddy (HTTPS in front of the dashboard and the desktop) ───────────────────────────────────────
# Debian's caddy; runs as the package's `caddy` user (compose lets it bind 80 and 443 with a sysctl).
# Certificates and its internal authority live on the /data volume.
FROM debian:bookworm-slim AS caddy
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends caddy ca-certificates >/dev/null \
 && rm -rf /var/lib/apt/lists/* \
 && id caddy \
 && mkdir -p /data /config && chown caddy:caddy /data /config
COPY services/caddy/Caddyfile /etc/caddy/Caddyfile
COPY services/caddy/caddy-entrypoint.sh /usr/local/bin/caddy-entrypoint
ENV XDG_DATA_HOME=/data XDG_CONFIG_HOME=/config
USER caddy
VOLUME ["/data", "/config"]
EXPOSE 80 443
# Healthy while it accepts connections on 443 (no curl in this image; bash opens the socket).
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/443"]
ENTRYPOINT ["/usr/local/bin/caddy-entrypoint"]

# ── init (compose's one-shot: secrets on first start) ─────────────────────────────────────────────
FROM debian:bookworm-slim AS init
COPY services/init/init.sh /usr/local/bin/irlkit-init
ENTRYPOINT ["/usr/local/bin/irlkit-init"]
