#!/usr/bin/env bash
# Replays the Dockerfile's steps without a Docker engine: the build stage (npm ci, build, prune to
# production dependencies), the runtime layout (/app with package.json, node_modules, dist), then
# starts `watch` from that layout against the bundled emulator and checks that /healthz answers.
set -euo pipefail
project="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/butter-sync-image-XXXXXX")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# --- build stage: COPY package.json package-lock.json; npm ci; COPY tsconfig.json src; build; prune
mkdir -p "$work/build" "$work/app"
cp "$project/package.json" "$project/package-lock.json" "$project/tsconfig.json" "$work/build/"
cp -R "$project/src" "$work/build/src"
(cd "$work/build" && npm ci --no-audit --no-fund --prefer-offline --loglevel=error >/dev/null)
(cd "$work/build" && npm run build --silent && npm prune --omit=dev --no-audit --no-fund --loglevel=error >/dev/null)

# --- runtime stage: COPY --from=build package.json node_modules dist + the schema
cp "$work/build/package.json" "$work/app/"
cp -R "$work/build/node_modules" "$work/app/node_modules"
cp -R "$work/build/dist" "$work/app/dist"
mkdir -p "$work/app/src/config"
cp "$project/src/config/sync.config.schema.json" "$work/app/src/config/"
if [ -d "$work/app/node_modules/vitest" ] || [ -d "$work/app/node_modules/typescript" ]; then
  echo "dev dependencies survived the production prune" >&2
  exit 1
fi

# --- a content repository, as mounted at /content
content="$work/content"
mkdir -p "$content"
cp -R "$project/content-example" "$content/content-example"
node -e 'const c=require(process.argv[1]);delete c.$schema;c.pull={...c.pull,intervalSeconds:0,fetchIntervalSeconds:0};process.stdout.write(JSON.stringify(c,null,2))' \
  "$project/sync.config.json" >"$content/sync.config.json"
git -C "$content" init -q -b main
git -C "$content" -c user.email=image@example.com -c user.name=image add -A
git -C "$content" -c user.email=image@example.com -c user.name=image commit -q -m content

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
api_port="$(free_port)"
health_port="$(free_port)"
export BUTTER_READ_TOKEN=image-read BUTTER_WRITE_TOKEN=image-write
node "$work/app/dist/cli/main.js" emulator --port "$api_port" --config "$content/sync.config.json" >"$work/emulator.log" 2>&1 &
pids+=($!)
export BUTTER_API_URL="http://127.0.0.1:$api_port/v2"
# CMD ["watch", "--repo", "/content"] with the HEALTHCHECK's port
BUTTER_SYNC_PORT="$health_port" node "$work/app/dist/cli/main.js" watch --repo "$content" --no-fetch --no-webhook \
  --host 127.0.0.1 >"$work/watch.log" 2>&1 &
pids+=($!)

# HEALTHCHECK: the exact node one-liner the image uses (no curl in the image).
for _ in $(seq 1 100); do
  if BUTTER_SYNC_PORT="$health_port" node -e "fetch('http://127.0.0.1:'+process.env.BUTTER_SYNC_PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"; then
    echo "healthz answered on port $health_port"
    # The console renders from the pruned production node_modules (its escaping library is a runtime dependency).
    if ! BUTTER_SYNC_PORT="$health_port" node -e "fetch('http://127.0.0.1:'+process.env.BUTTER_SYNC_PORT+'/').then(async r=>process.exit(r.ok&&(await r.text()).includes('butter-sync console')?0:1),()=>process.exit(1))"; then
      echo "the console at / did not render" >&2
      cat "$work/watch.log" >&2
      exit 1
    fi
    echo "console answered on port $health_port"
    exit 0
  fi
  sleep 0.2
done
echo "watch never answered /healthz" >&2
cat "$work/watch.log" >&2
exit 1
