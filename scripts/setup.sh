#!/usr/bin/env bash
# Everything the whole test suite needs on a fresh Debian 12 machine, as root:
# Debian's chromium (the report is checked in a real headless browser) and the
# live side (sshd, runc, iptables, a CRIU that works on this kernel, workloads).
# Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
if ! command -v chromium >/dev/null 2>&1; then
  echo "==> apt: installing chromium"
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
bash scripts/setup-live.sh
