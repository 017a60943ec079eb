#!/usr/bin/env bash
# Undo scripts/setup-slurm.sh: stop the daemons it started (and only those: it
# recorded their pids; a munged or slurmd that ran before it is left alone),
# then remove the slurm.conf it wrote and its state, spool and pid folders.
# Packages stay installed. Idempotent. Same environment as setup-slurm.sh.
#
# Usage: bash scripts/teardown-slurm.sh     (as root)
set -uo pipefail

CONF="${SLURM_CONF:-/etc/slurm/slurm.conf}"
STATE="${CONMIG_SLURM_STATE:-/var/spool/slurmctld}"
SPOOL="${CONMIG_SLURMD_SPOOL:-/var/spool/slurmd}"
RUNDIR="${CONMIG_SLURM_RUN:-/run/conmig-slurm}"
MARK="# written by conmig scripts/setup-slurm.sh"

[ "$(id -u)" = 0 ] || { echo "teardown-slurm: must run as root" >&2; exit 1; }

stop() {
  local name=$1 pid=$2
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$name" ] || return 0
  echo "==> stopping $name (pid $pid)"
  kill "$pid" 2>/dev/null
  for _ in $(seq 100); do [ -d "/proc/$pid" ] || return 0; sleep 0.1; done
  echo "teardown-slurm: $name (pid $pid) did not stop within 10 s" >&2
  return 1
}

status=0
if [ -f "$RUNDIR/started" ]; then
  # Reverse order of starting: slurmd, slurmctld, then munged.
  while read -r name pid; do stop "$name" "$pid" || status=1; done < <(tac "$RUNDIR/started")
else
  echo "==> nothing recorded as started by setup-slurm.sh"
fi
# The config and the state folders only if this script's config is the one in place
# (another Slurm set up by hand keeps its files), and only once its daemons stopped.
if [ $status = 0 ] && [ -f "$CONF" ] && head -1 "$CONF" | grep -qF "$MARK"; then
  echo "==> removing $CONF, $STATE, $SPOOL"
  rm -rf "$CONF" "$STATE" "$SPOOL"
fi
[ $status = 0 ] && rm -rf "$RUNDIR"
exit $status
