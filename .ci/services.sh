#!/usr/bin/env bash
# Makes ready what the integration tests need: a Docker engine, the busybox test image, a
# tools image (busybox and curl), Azurite and a headless browser (Debian's Chromium, for the
# run report's test). Sourced by .ci/run (or by hand before pytest); exports DOCKER_HOST,
# RUNNER_AZURITE_BIN, RUNNER_TEST_IMAGE, RUNNER_TEST_TOOLS_IMAGE and RUNNER_CHROMIUM.
#
# An engine that already answers is used as it is, which needs no root: DOCKER_HOST, else
# the default socket, else the one an earlier run left under CI_ROOT. Only when none
# answers is a dockerd of its own started (that needs root); an EXIT trap of the sourcing
# shell stops it, and nothing this did not start. Missing packages are installed with apt
# when running as root; anyone else is told what to install.
set -euo pipefail

CI_ROOT=${CI_ROOT:-/tmp/runner-ci}
CI_DEFAULT_DOCKER_SOCKET=/var/run/docker.sock
CI_TEST_IMAGE=runner-test/busybox:1
CI_TOOLS_IMAGE=runner-test/tools:1
CI_STARTED_DOCKERD=""
CI_APT_UPDATED=""
mkdir -p "$CI_ROOT"

ci_is_root() { [ "$(id -u)" -eq 0 ]; }

# ci_install REASON PACKAGE...: installs Debian packages as root, else names them and fails.
ci_install() {
  local reason=$1
  shift
  if ci_is_root && command -v apt-get >/dev/null; then
    echo "ci: installing $* ($reason)"
    if [ -z "$CI_APT_UPDATED" ]; then
      (apt-get update -qq || true) >/dev/null
      CI_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      ${CI_NO_RECOMMENDS:+--no-install-recommends} "$@" >/dev/null
    hash -r
  else
    echo "ci: $reason: install $* (Debian: sudo apt-get install $*), then run this again" >&2
    exit 1
  fi
}

ci_engine_answers() { DOCKER_HOST=$1 docker version >/dev/null 2>&1; }

ci_stop_started_dockerd() {
  local pid=$CI_STARTED_DOCKERD _
  [ -n "$pid" ] || return 0
  CI_STARTED_DOCKERD=""
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 40); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "ci: stopped the dockerd it had started (pid $pid)"
}

ci_start_dockerd() {
  local driver=$1 _
  local data="$CI_ROOT/docker-data-$driver" exec_root="$CI_ROOT/docker-exec"
  local sock="$CI_ROOT/docker.sock" pid_file="$CI_ROOT/docker.pid"
  if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
    echo "ci: a dockerd (pid $(cat "$pid_file")) holds $CI_ROOT but does not answer" \
      "at unix://$sock; stop it, or set CI_ROOT to another folder" >&2
    exit 1
  fi
  rm -f "$pid_file" "$exec_root/containerd/containerd.pid" "$sock"
  mkdir -p "$data" "$exec_root"
  dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver="$driver" \
    --shutdown-timeout 2 --data-root "$data" --exec-root "$exec_root" \
    -H "unix://$sock" --pidfile "$pid_file" >"$CI_ROOT/dockerd-$driver.log" 2>&1 &
  CI_STARTED_DOCKERD=$!
  trap ci_stop_started_dockerd EXIT
  for _ in $(seq 1 60); do
    if ci_engine_answers "unix://$sock"; then
      export DOCKER_HOST="unix://$sock"
      echo "ci: started dockerd (pid $CI_STARTED_DOCKERD); it stops when this shell exits"
      return 0
    fi
    kill -0 "$CI_STARTED_DOCKERD" 2>/dev/null || break
    sleep 0.25
  done
  ci_stop_started_dockerd
  return 1
}

ci_choose_engine() {
  local host
  if [ -n "${DOCKER_HOST:-}" ]; then
    if ! ci_engine_answers "$DOCKER_HOST"; then
      echo "ci: no Docker engine answers at DOCKER_HOST=$DOCKER_HOST; start it, or unset" \
        "DOCKER_HOST to use the default socket" >&2
      exit 1
    fi
    export DOCKER_HOST
    return 0
  fi
  for host in "unix://$CI_DEFAULT_DOCKER_SOCKET" "unix://$CI_ROOT/docker.sock"; do
    if ci_engine_answers "$host"; then
      export DOCKER_HOST=$host
      return 0
    fi
  done
  if ! ci_is_root; then
    echo "ci: no Docker engine answers (DOCKER_HOST is unset, none at" \
      "$CI_DEFAULT_DOCKER_SOCKET or $CI_ROOT/docker.sock): start one (Docker's rootless" \
      "mode needs no root) or run this as root to have it start its own" >&2
    exit 1
  fi
  if ! command -v dockerd >/dev/null; then
    ci_install "no Docker engine answers" docker.io
  fi
  if ! ci_start_dockerd overlay2; then
    echo "ci: overlay2 did not start, falling back to vfs"
    ci_start_dockerd vfs || {
      echo "ci: dockerd did not start" >&2
      tail -n 20 "$CI_ROOT"/dockerd-*.log >&2
      exit 1
    }
  fi
}

# The test image holds nothing but busybox, so it must be one that needs no libraries.
ci_is_static() {
  local out
  command -v ldd >/dev/null || return 0 # nothing to tell with: trust it
  out=$(LC_ALL=C ldd "$1" 2>&1 || true)
  case $out in
    *"not a dynamic executable"* | *"statically linked"*) return 0 ;;
  esac
  return 1
}

ci_find_busybox() {
  local candidate candidates=()
  [ -z "${CI_BUSYBOX:-}" ] || candidates+=("$CI_BUSYBOX")
  candidates+=("$(command -v busybox || true)")
  for candidate in "${candidates[@]}"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && ci_is_static "$candidate"; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

# ci_busybox_root FOLDER: a root file system of busybox alone, made afresh in FOLDER.
ci_busybox_root() {
  local busybox root=$1 applet
  if ! busybox=$(ci_find_busybox); then
    ci_install "no statically linked busybox (or CI_BUSYBOX) for the test image" busybox-static
    busybox=$(ci_find_busybox) || { echo "ci: busybox-static gave no busybox" >&2; exit 1; }
  fi
  rm -rf "$root"
  mkdir -p "$root/bin" "$root/tmp" "$root/etc"
  cp "$busybox" "$root/bin/busybox"
  for applet in $("$root/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
}

# Images come from a busybox root file system: no registry is reachable here.
ci_import_test_image() {
  local root="$CI_ROOT/busybox-root"
  ci_busybox_root "$root"
  tar -C "$root" -c . | docker import -c 'CMD ["/bin/sh"]' - "$CI_TEST_IMAGE" >/dev/null
}

# ci_libraries BINARY: the absolute paths in ldd's answer: the shared libraries BINARY
# loads and its dynamic loader (none for a static one).
ci_libraries() {
  local line word
  { LC_ALL=C ldd "$1" 2>/dev/null || true; } | while read -r line; do
    for word in $line; do
      case $word in /*) echo "$word" ;; esac
    done
  done
}

# The tools image: busybox and this machine's curl, with the libraries it loads (copied at
# the same paths, so its loader finds them where it looks on this machine).
ci_import_tools_image() {
  local curl root="$CI_ROOT/tools-root" lib
  if ! curl=$(command -v curl); then
    ci_install "no curl for the test tools image" curl
    curl=$(command -v curl) || { echo "ci: the curl package gave no curl" >&2; exit 1; }
  fi
  ci_busybox_root "$root"
  mkdir -p "$root/usr/bin"
  cp -L "$curl" "$root/usr/bin/curl"
  for lib in $(ci_libraries "$curl"); do
    cp -L --parents "$lib" "$root"
  done
  tar -C "$root" -c . | docker import -c 'CMD ["/bin/sh"]' - "$CI_TOOLS_IMAGE" >/dev/null
}

# Called as plain commands, not in a condition: there errexit holds inside them too.
if ! command -v docker >/dev/null; then
  ci_install "no docker client" docker.io
fi
ci_choose_engine
echo "ci: docker engine ready at $DOCKER_HOST"

if ! docker image inspect "$CI_TEST_IMAGE" >/dev/null 2>&1; then
  ci_import_test_image
fi
export RUNNER_TEST_IMAGE=$CI_TEST_IMAGE
if ! docker image inspect "$CI_TOOLS_IMAGE" >/dev/null 2>&1; then
  ci_import_tools_image
fi
export RUNNER_TEST_TOOLS_IMAGE=$CI_TOOLS_IMAGE

# Azurite 3.35.0, the last release that runs on Node 20.
AZURITE_DIR=${AZURITE_DIR:-$HOME/.cache/runner/azurite-3.35.0}
if [ ! -x "$AZURITE_DIR/node_modules/.bin/azurite-blob" ]; then
  command -v npm >/dev/null || {
    echo "ci: Azurite is not installed and npm is missing: install Node.js 20 and npm" >&2
    exit 1
  }
  echo "ci: installing azurite@3.35.0"
  mkdir -p "$AZURITE_DIR"
  npm install --prefix "$AZURITE_DIR" --no-audit --no-fund --loglevel=error azurite@3.35.0 >/dev/null
fi
export RUNNER_AZURITE_BIN="$AZURITE_DIR/node_modules/.bin/azurite-blob"
"$RUNNER_AZURITE_BIN" --version >/dev/null || { echo "ci: azurite does not run"; exit 1; }
echo "ci: azurite at $RUNNER_AZURITE_BIN"

# The run report is loaded in a real browser; Debian's package, without its recommends
# (fonts and desktop integration the headless test does not need).
CI_CHROMIUM=${RUNNER_CHROMIUM:-$(command -v chromium || true)}
if [ -z "$CI_CHROMIUM" ]; then
  CI_NO_RECOMMENDS=1 ci_install "no chromium for the run report's browser test" chromium
  CI_CHROMIUM=$(command -v chromium) || { echo "ci: the chromium package gave no chromium" >&2; exit 1; }
fi
export RUNNER_CHROMIUM=$CI_CHROMIUM
echo "ci: chromium at $RUNNER_CHROMIUM"
