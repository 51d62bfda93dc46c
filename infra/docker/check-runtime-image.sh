#!/usr/bin/env bash
# CI check of the image's file tree, for machines without a Docker engine: runs
# infra/docker/build-runtime.sh in a scratch copy of the repository in the Dockerfile's order
# (lock file and deps, then sources and build, then the runtime tree), then checks that the
# runtime tree holds no dev dependency and works on its own: `churn --help`, a small
# `churn synth` + `churn score --device cpu`, and a worker and a producer answering the image's
# healthcheck (needs Redis at REDIS_URL, default redis://127.0.0.1:6379).
#   bash infra/docker/check-runtime-image.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/churn-image-check.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  # The queue keys the worker and producer made under this check's private prefix.
  if [[ -n ${CHURN_QUEUE_PREFIX:-} && -e $scratch/app/node_modules/ioredis ]]; then
    node -e '
      const { Redis } = require(process.argv[1]);
      const redis = new Redis(process.env.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
      redis.keys(`${process.env.CHURN_QUEUE_PREFIX}:*`).then((k) => (k.length ? redis.del(...k) : 0)).finally(() => redis.quit()).catch(() => {});
    ' "$scratch/app/node_modules/ioredis" || true
  fi
  rm -rf "$scratch"
}
trap cleanup EXIT
fail() { echo "check-runtime-image: FAIL: $*" >&2; exit 1; }
step() { echo "check-runtime-image: $*" >&2; }

src=$scratch/src app=$scratch/app work=$scratch/work
mkdir -p "$src" "$work"
# The build context: the working tree's tracked and untracked files that git does not ignore
# (node_modules, dist, ... are ignored: the image installs and builds its own).
context() { (cd "$repo" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done); }

step "deps (npm ci with dev dependencies) in $src"
(cd "$repo" && tar -cf - package.json package-lock.json .npmrc infra/docker/build-runtime.sh) | tar -xf - -C "$src"
(cd "$src" && infra/docker/build-runtime.sh deps)
step "build"
context | (cd "$repo" && tar --null -T - -cf -) | tar -xf - -C "$src"
(cd "$src" && infra/docker/build-runtime.sh build)
step "runtime tree in $app"
(cd "$src" && ONNXRUNTIME_NODE_INSTALL=skip infra/docker/build-runtime.sh runtime "$app")

# Only what the image needs, and no dev dependency.
expected="bin dist healthcheck.js models node_modules package-lock.json package.json"
actual=$(cd "$app" && find . -mindepth 1 -maxdepth 1 ! -name .npmrc | sed 's|^\./||' | sort | tr '\n' ' ' | sed 's/ $//')
[[ $actual == "$expected" ]] || fail "runtime tree holds [$actual], expected [$expected]"
[[ $(cd "$app/dist" && ls | tr '\n' ' ') == "cli producer worker " ]] || fail "dist/ holds $(ls "$app/dist"), expected cli producer worker"
for pkg in jest nx typescript esbuild ts-jest eslint s3rver; do
  [[ ! -e $app/node_modules/$pkg ]] || fail "dev dependency $pkg is in the runtime tree"
done
# Every installed package is a production one by the lock file (a devDependency may also be
# a production package's dependency, e.g. @types/node of apache-arrow: then it is not marked dev).
node -e '
  const lock = require(process.argv[1] + "/package-lock.json").packages;
  const fs = require("fs");
  const dev = Object.keys(lock).filter((p) => lock[p].dev && fs.existsSync(process.argv[1] + "/" + p));
  if (dev.length) { console.error(dev.join("\n")); process.exit(1); }' "$app" || fail "dev-only packages (above) are in the runtime tree"
[[ -e $app/node_modules/onnxruntime-node && -e $app/node_modules/bullmq ]] || fail "production dependencies missing"
[[ $(ls "$app/node_modules/onnxruntime-node/bin/napi-v6") == "$(node -p process.platform)" ]] || fail "other platforms' onnxruntime binaries were not pruned"
step "runtime tree: $(du -sh "$app" | cut -f1), $(ls "$app/node_modules" | wc -l) top-level packages, no dev dependency"

# From the runtime tree alone: another working directory, no NODE_PATH.
churn() { (cd "$work" && exec env -u NODE_PATH node --single-threaded-gc --wasm-tiering-budget=18000000 "$app/bin/churn.js" "$@"); }
churn --help | grep -q 'score' || fail "churn --help does not list score"
churn synth --customers 5000 --as-of 2026-01-15 --out "$work/data" --files 2 --seed 5 >/dev/null 2>&1
summary=$(churn score --input "$work/data" --output "$work/scores" --device cpu 2>/dev/null | tail -n 1)
node -e '
  const s = JSON.parse(process.argv[1]);
  const total = s.rowsScored + s.rowsQuarantined + s.rowsIneligible;
  if (s.rowsRead !== 5000 || total !== 5000 || s.rowsScored < 1 || s.device !== "cpu") {
    console.error("unexpected summary", s);
    process.exit(1);
  }' "$summary" || fail "churn score from the runtime tree: $summary"
find "$work/scores" -name _SUCCESS | grep -q . || fail "no _SUCCESS under the score table"
step "churn synth + score from the runtime tree: $summary"

# The queue apps load from the tree, and answer the image's HEALTHCHECK command.
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379} CHURN_QUEUE_PREFIX="churn-image-check-$$"
port_of() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
healthy() {
  local port=$1 i
  for i in $(seq 1 100); do
    CHURN_METRICS_PORT=$port node "$app/healthcheck.js" 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}
wport=$(port_of)
# Started inline, not through churn(): with exec, $! is node itself, which SIGTERM must reach.
(cd "$work" && exec env -u NODE_PATH node --single-threaded-gc --wasm-tiering-budget=18000000 "$app/bin/churn.js" worker --concurrency 1 --device cpu --metrics-port "$wport") 2>"$work/worker.log" &
pids+=($!)
pport=$(port_of)
(cd "$work" && exec env -u NODE_PATH node --single-threaded-gc --wasm-tiering-budget=18000000 "$app/bin/churn.js" producer --metrics-port "$pport") 2>"$work/producer.log" &
pids+=($!)
healthy "$wport" || fail "worker healthcheck on :$wport never passed: $(cat "$work/worker.log")"
healthy "$pport" || fail "producer healthcheck on :$pport never passed: $(cat "$work/producer.log")"
node -e 'fetch(process.argv[1]).then((r) => r.text()).then((t) => process.exit(t.includes(process.argv[2]) ? 0 : 1))' \
  "http://127.0.0.1:$pport/metrics" "churn_shard_backlog_jobs{prefix=\"$CHURN_QUEUE_PREFIX\"} 0" || fail "producer /metrics has no shard backlog"
for pid in "${pids[@]}"; do kill -TERM "$pid"; done
for i in $(seq 1 200); do
  alive=0
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
  [[ $alive == 0 ]] && break
  sleep 0.2
done
[[ $alive == 0 ]] || fail "worker or producer still running 40 s after SIGTERM"
for pid in "${pids[@]}"; do wait "$pid" || fail "a queue app exited non-zero on SIGTERM: $(cat "$work/worker.log" "$work/producer.log")"; done
pids=()
step "OK: worker and producer healthy from the runtime tree, and drained on SIGTERM"
