#!/usr/bin/env bash
# A real single-node Slurm on this machine, for `conmig sweep --slurm` tests and
# benchmarks: Debian 12's slurm-wlm (22.05) and munge, a minimal slurm.conf for
# this host (one node with its real cores and a little less than its memory, one
# partition), then munged, slurmctld and slurmd started, and a wait until `sinfo`
# shows the node idle. What worked on these machines, step by step, is recorded
# in /work/shared/notes/slurm-platform.md.
#
# It must start the daemons itself: CI runs on a fresh machine where nothing of
# an earlier session is running. Idempotent: a second run starts nothing that
# runs and rewrites nothing that is current (a second or two). Undo with
# scripts/teardown-slurm.sh, which stops only what this script started.
#
# Usage: bash scripts/setup-slurm.sh        (as root)
# Env (every folder is created here):
#   SLURM_CONF             slurm.conf to write (default /etc/slurm/slurm.conf; Slurm's own
#                          commands read this variable too, so export it if you move it)
#   CONMIG_SLURM_STATE     slurmctld state (default /var/spool/slurmctld)
#   CONMIG_SLURMD_SPOOL    slurmd spool (default /var/spool/slurmd)
#   CONMIG_SLURM_LOG       daemon logs (default /var/log/slurm)
#   CONMIG_SLURM_RUN       pid files and what this script started (default /run/conmig-slurm)
#   CONMIG_SETUP_LOG       this script's log (default /var/log/conmig-setup.log)
set -uo pipefail

CONF="${SLURM_CONF:-/etc/slurm/slurm.conf}"
STATE="${CONMIG_SLURM_STATE:-/var/spool/slurmctld}"
SPOOL="${CONMIG_SLURMD_SPOOL:-/var/spool/slurmd}"
LOGDIR="${CONMIG_SLURM_LOG:-/var/log/slurm}"
RUNDIR="${CONMIG_SLURM_RUN:-/run/conmig-slurm}"
LOG="${CONMIG_SETUP_LOG:-/var/log/conmig-setup.log}"
MARK="# written by conmig scripts/setup-slurm.sh"
# munged's socket and key paths are compiled into the munge clients: not movable.
MUNGE_RUN=/run/munge
MUNGE_KEY=/etc/munge/munge.key

mkdir -p "$(dirname "$LOG")" 2>/dev/null
: >>"$LOG" || { echo "setup-slurm: cannot write log $LOG" >&2; exit 1; }
echo "==== $(date -Is) setup-slurm.sh" >>"$LOG"
say() { printf '%s\n' "$*"; printf '%s\n' "$*" >>"$LOG"; }
run() { printf '+ %s\n' "$*" >>"$LOG"; "$@" >>"$LOG" 2>&1; }
fail() { say "setup-slurm: FAILED: $*"; say "  (details in $LOG)"; exit 1; }

[ "$(id -u)" = 0 ] || fail "must run as root"
export DEBIAN_FRONTEND=noninteractive
export SLURM_CONF="$CONF"

# ---------------------------------------------------------------- packages
need=()
for p in slurm-wlm munge; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  say "==> apt: installing ${need[*]}"
  run apt-get update || fail "apt-get update"
  run apt-get install -y --no-install-recommends "${need[@]}" || fail "apt-get install ${need[*]}"
else
  say "==> apt: slurm-wlm and munge already installed"
fi
# The packages try to start their services through systemd, which does not run here.

mkdir -p "$RUNDIR" "$STATE" "$SPOOL" "$LOGDIR" "$(dirname "$CONF")" || fail "cannot create Slurm folders"

# Is `pid` (from a pid file) a running process named `comm`?
alive() {
  local file=$1 comm=$2 pid
  [ -s "$file" ] || return 1
  pid=$(cat "$file" 2>/dev/null)
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$comm" ]
}
# Record that this script started a daemon, so that the teardown stops only that.
started() { echo "$1 $2" >>"$RUNDIR/started"; }

# ---------------------------------------------------------------- munge
if [ ! -s "$MUNGE_KEY" ]; then
  say "==> munge: writing a key to $MUNGE_KEY"
  mkdir -p "$(dirname "$MUNGE_KEY")"
  dd if=/dev/urandom of="$MUNGE_KEY" bs=1024 count=1 status=none || fail "cannot write $MUNGE_KEY"
  chown munge:munge "$MUNGE_KEY" && chmod 400 "$MUNGE_KEY"
fi
mkdir -p "$MUNGE_RUN" && chown munge:munge "$MUNGE_RUN"
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  say "==> munge: munged already running"
else
  say "==> munge: starting munged"
  run su -s /bin/sh munge -c /usr/sbin/munged || fail "munged did not start"
  for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
  munge -n | unmunge >>"$LOG" 2>&1 || fail "munge -n | unmunge does not succeed"
  started munged "$(cat "$MUNGE_RUN/munged.pid" 2>/dev/null)"
fi

# ---------------------------------------------------------------- slurm.conf
host=$(hostname -s)
cpus=$(nproc)
mem_mib=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
# A little under the machine's memory: slurmd drains a node that has less than configured.
real_mib=$(( mem_mib * 95 / 100 ))
# Addresses are given (127.0.0.1), so the host name need not resolve (it may not on a CI machine).
want=$(cat <<EOF
$MARK (do not edit: the script rewrites it)
ClusterName=conmig
SlurmctldHost=$host(127.0.0.1)
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
# Start array tasks as soon as cores free up (default: up to 3 s later; measured 3 s per wave).
SchedulerParameters=batch_sched_delay=0
ReturnToService=2
SlurmUser=root
SlurmctldPidFile=$RUNDIR/slurmctld.pid
SlurmdPidFile=$RUNDIR/slurmd.pid
StateSaveLocation=$STATE
SlurmdSpoolDir=$SPOOL
SlurmctldLogFile=$LOGDIR/slurmctld.log
SlurmdLogFile=$LOGDIR/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$real_mib State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
)
conf_changed=0
if [ -f "$CONF" ] && ! head -1 "$CONF" | grep -qF "$MARK"; then
  say "==> slurm: $CONF exists and was not written by this script: using it as it is"
elif [ -f "$CONF" ] && [ "$(cat "$CONF")" = "$want" ]; then
  say "==> slurm: $CONF is current (node $host, $cpus CPUs, $real_mib MiB)"
else
  say "==> slurm: writing $CONF (node $host, $cpus CPUs, $real_mib MiB)"
  printf '%s\n' "$want" >"$CONF.tmp.$$" && mv "$CONF.tmp.$$" "$CONF" || fail "cannot write $CONF"
  conf_changed=1
fi

# ---------------------------------------------------------------- daemons
# A changed slurm.conf (host, cores, addresses) needs the daemons restarted, not only reconfigured.
if [ $conf_changed = 1 ]; then
  for d in slurmd slurmctld; do
    if alive "$RUNDIR/$d.pid" $d; then
      say "==> slurm: restarting $d for the new $CONF"
      pid=$(cat "$RUNDIR/$d.pid"); kill "$pid"
      for _ in $(seq 100); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    fi
  done
fi
if alive "$RUNDIR/slurmctld.pid" slurmctld; then
  say "==> slurm: slurmctld already running"
else
  say "==> slurm: starting slurmctld"
  run /usr/sbin/slurmctld || fail "slurmctld did not start (see $LOGDIR/slurmctld.log)"
  for _ in $(seq 50); do alive "$RUNDIR/slurmctld.pid" slurmctld && break; sleep 0.1; done
  alive "$RUNDIR/slurmctld.pid" slurmctld || fail "slurmctld is not running (see $LOGDIR/slurmctld.log)"
  started slurmctld "$(cat "$RUNDIR/slurmctld.pid")"
fi
if alive "$RUNDIR/slurmd.pid" slurmd; then
  say "==> slurm: slurmd already running"
else
  say "==> slurm: starting slurmd"
  run /usr/sbin/slurmd || fail "slurmd did not start (see $LOGDIR/slurmd.log)"
  for _ in $(seq 50); do alive "$RUNDIR/slurmd.pid" slurmd && break; sleep 0.1; done
  alive "$RUNDIR/slurmd.pid" slurmd || fail "slurmd is not running (see $LOGDIR/slurmd.log)"
  started slurmd "$(cat "$RUNDIR/slurmd.pid")"
fi

# ---------------------------------------------------------------- node idle
state=""
for i in $(seq 120); do
  state=$(sinfo -h -n "$host" -o '%T' 2>/dev/null | head -1)
  case "$state" in
    idle|mixed|allocated|completing) break ;;
    # A node that was down (a daemon restarted with another config) comes back on request.
    down*|drain*|fail*) [ $((i % 10)) = 1 ] && run scontrol update NodeName="$host" State=RESUME ;;
  esac
  sleep 0.25
done
case "$state" in
  idle|mixed|allocated|completing) say "==> slurm: node $host is $state (sinfo)" ;;
  *) fail "node $host is not idle after 30 s (sinfo: ${state:-no answer}; see $LOGDIR/slurmctld.log)" ;;
esac
