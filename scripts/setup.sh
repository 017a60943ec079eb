#!/usr/bin/env bash
# Everything the whole test suite needs on a fresh Debian 12 machine, as root:
# Debian's chromium (the report is checked in a real headless browser),
# python3-pandas (the sweep's merged CSV is read by pandas), a single-node
# Slurm with its daemons running (sweeps submit real job arrays) and the live
# side (sshd, runc, iptables, a CRIU that works on this kernel, workloads).
# Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium fonts-dejavu-core)
# Debian's own python3 (a pyenv or venv python3 earlier on PATH does not see it).
/usr/bin/python3 -c 'import pandas' >/dev/null 2>&1 || need+=(python3-pandas)
if [ ${#need[@]} -gt 0 ]; then
  echo "==> apt: installing ${need[*]}"
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi
bash scripts/setup-slurm.sh
bash scripts/setup-live.sh
