#!/usr/bin/env bash
# System packages the test suite uses: Java 17+ for Spark (riskml[spark]), Chromium for the report
# tests (rendered DOM, screenshots, PDF) and the PostgreSQL server for the credit-check service tests
# (tests/serving start their own server with initdb + pg_ctl in a temporary directory). Installed from Debian's packages when missing and when we may
# (root, apt-get present); otherwise the tests that need them skip, saying why.
# Chromium runs headless with a fresh profile and no network features (riskml.reporting.browser).
set -u
need=()
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || need+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
# wrk: the credit-check benchmark's saturation run (benchmarks/bench_serving.py; skipped without it)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "note: not installing ${need[*]} (needs root and apt-get); the tests that need them will skip" >&2
  exit 0
fi
echo "installing system packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp -t riskml-apt.XXXXXX)
apt-get update -qq >"$log" 2>&1 || true
if ! apt-get install -y -qq --no-install-recommends "${need[@]}" >>"$log" 2>&1; then
  echo "note: could not install ${need[*]}; the tests that need them will skip. Last lines of apt-get:" >&2
  tail -n 5 "$log" >&2
fi
rm -f "$log"
exit 0
