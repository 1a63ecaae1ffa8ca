#!/usr/bin/env bash
# Starts what the integration tests need: a Docker engine of our own and Azurite.
# Sourced by .ci/run; exports DOCKER_HOST, RUNNER_AZURITE_BIN and RUNNER_TEST_IMAGE.
set -euo pipefail

CI_ROOT=${CI_ROOT:-/tmp/runner-ci}
mkdir -p "$CI_ROOT"

need_apt=()
command -v dockerd >/dev/null || need_apt+=(docker.io)
[ -x /bin/busybox ] || need_apt+=(busybox-static)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "ci: installing ${need_apt[*]}"
  (apt-get update -qq || true) >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

start_dockerd() {
  local driver=$1
  local data="$CI_ROOT/docker-data-$driver" exec_root="$CI_ROOT/docker-exec"
  local sock="$CI_ROOT/docker.sock" pid="$CI_ROOT/docker.pid"
  if [ -f "$pid" ] && kill -0 "$(cat "$pid")" 2>/dev/null; then
    kill "$(cat "$pid")" 2>/dev/null || true
    sleep 1
  fi
  rm -f "$pid" "$exec_root/containerd/containerd.pid" "$sock"
  mkdir -p "$data" "$exec_root"
  dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver="$driver" \
    --shutdown-timeout 2 --data-root "$data" --exec-root "$exec_root" \
    -H "unix://$sock" --pidfile "$pid" >"$CI_ROOT/dockerd-$driver.log" 2>&1 &
  for _ in $(seq 1 60); do
    if DOCKER_HOST="unix://$sock" docker version >/dev/null 2>&1; then
      export DOCKER_HOST="unix://$sock"
      return 0
    fi
    sleep 0.25
  done
  return 1
}

if ! start_dockerd overlay2; then
  echo "ci: overlay2 did not start, falling back to vfs"
  start_dockerd vfs || { echo "ci: dockerd did not start"; tail -20 "$CI_ROOT"/dockerd-*.log; exit 1; }
fi
echo "ci: docker engine ready at $DOCKER_HOST"

# Images come from a busybox root file system: no registry is reachable here.
if ! docker image inspect runner-test/busybox:1 >/dev/null 2>&1; then
  root="$CI_ROOT/busybox-root"
  rm -rf "$root"; mkdir -p "$root/bin" "$root/tmp" "$root/etc"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $("$root/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
  tar -C "$root" -c . | docker import -c 'CMD ["/bin/sh"]' - runner-test/busybox:1 >/dev/null
fi
export RUNNER_TEST_IMAGE=runner-test/busybox:1

# Azurite 3.35.0, the last release that runs on Node 20.
AZURITE_DIR=${AZURITE_DIR:-$HOME/.cache/runner/azurite-3.35.0}
if [ ! -x "$AZURITE_DIR/node_modules/.bin/azurite-blob" ]; then
  echo "ci: installing azurite@3.35.0"
  mkdir -p "$AZURITE_DIR"
  npm install --prefix "$AZURITE_DIR" --no-audit --no-fund --loglevel=error azurite@3.35.0 >/dev/null
fi
export RUNNER_AZURITE_BIN="$AZURITE_DIR/node_modules/.bin/azurite-blob"
"$RUNNER_AZURITE_BIN" --version >/dev/null || { echo "ci: azurite does not run"; exit 1; }
echo "ci: azurite at $RUNNER_AZURITE_BIN"
