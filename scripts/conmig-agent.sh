#!/usr/bin/env bash
# conmig node agent (docs/migrate.md, "The node agent"). The controller uploads this file to
# <workDir>/conmig-agent.sh and starts it over the node's existing SSH connection; the SSH
# channel's stdin/stdout carry the frames below (no port, no new trust). It runs the node's
# commands locally, several at a time, and keeps a cache of node facts fresh.
# Written for bash (>= 4.3; EPOCHREALTIME from 5.0, else `date`) and coreutils only, which
# every conmig node already needs (docs/migrate.md, "Running it on ORBIT/COSMOS").
#
# controller -> agent (one header line, then exactly the announced bytes):
#   run  ID TIMEOUT_MS STREAM CMDLEN INLEN \n CMD STDIN   run `sh -c CMD`; STREAM=1: output as `out` frames
#   fact ID KEY MAXAGE_MS VALLEN CMDLEN \n VALIDATOR CMD  a cached fact (see below)
#   kill ID                                               SIGKILL the command's process group
#   ping ID                                               answered at once
# agent -> controller:
#   hello conmig-agent PROTO SHA256-OF-THIS-FILE PID
#   out  ID FD LEN \n BYTES                               streamed output (FD 1 or 2)
#   done ID RC WALL_US OUTLEN ERRLEN FLAGS \n OUT ERR      FLAGS: - | killed | timeout | cached | fresh
#   err  LEN \n TEXT                                      a request the agent did not understand
# A fact is a command whose output the agent keeps: answered from the cache when it was checked
# less than MAXAGE_MS ago; a refresher re-checks every fact used in the last 10 minutes every
# CONMIG_AGENT_REFRESH_S seconds (2): it runs the fact's VALIDATOR (a cheap fingerprint, e.g. of a
# rootfs's names/sizes/mtimes) and re-runs CMD only when the fingerprint changed (no VALIDATOR:
# CMD every time). At EOF on stdin (the controller went away) running commands finish, then the
# agent removes its scratch folder and exits.
PROTO=1
set -u
export LC_ALL=C
# Started by sshd, so SSH_CLIENT is set and SHLVL is 0 after the bootstrap's exec: every bash this
# agent starts would then read root's ~/.bashrc (bash's "run by sshd" rule), which on a node may do
# anything (on this project's machine it runs `pyenv init`: ~150 ms per bash). Commands the agent
# runs are not remote shells: without these variables their bash reads no start-up file.
unset SSH_CLIENT SSH2_CLIENT
# for helpers that must end with the agent (a push prepared before the freeze: agent-node.ts)
export CONMIG_AGENT_PID=$$
D=$(mktemp -d "${CONMIG_AGENT_TMP:-/tmp}/conmig-agent.XXXXXX") && mkdir "$D/jobs" "$D/facts" || exit 70
# Facts outlive the agent (beside this file, format 2): the next agent, e.g. the next
# `conmig migrate`, starts with them and re-checks each one's validator before using it. Agents
# sharing the folder are safe: an answer and the fingerprint it was taken with are one file.
FACTS=${CONMIG_AGENT_FACTS:-}
case $0 in */*) [ -n "$FACTS" ] || FACTS=${0%/*}/conmig-agent-facts.2 ;; esac
if [ -z "$FACTS" ] || ! mkdir -p "$FACTS" 2>/dev/null || [ ! -w "$FACTS" ]; then FACTS=$D/facts; fi
REFRESH_S=${CONMIG_AGENT_REFRESH_S:-2}
exec 3>&1 1>/dev/null

now_us() {
  if [ -n "${EPOCHREALTIME:-}" ]; then REPLY=${EPOCHREALTIME/./}; else REPLY=$(date +%s%6N); fi
}

# Writers to the channel take turns with a token in a FIFO (a semaphore made of builtins: no fork).
mkfifo "$D/mutex" || exit 70
exec {MUTEX}<>"$D/mutex"
printf t >&"$MUTEX"
lock() { local tok; IFS= read -r -N 1 tok <&"$MUTEX"; }
unlock() { printf t >&"$MUTEX"; }

# done frame: id rc wall_us flags outfile errfile
emit_done() {
  local sz no=0 ne=0
  if [ -n "$5" ]; then
    sz=$(stat -c %s "$5" "$6")
    no=${sz%%$'\n'*}
    ne=${sz##*$'\n'}
  fi
  lock
  { printf 'done %s %s %s %s %s %s\n' "$1" "$2" "$3" "$no" "$ne" "$4"; [ -z "$5" ] || cat "$5" "$6"; } >&3
  unlock
}

pump() {
  local c=$D/jobs/$1.c$2 n
  while dd bs=65536 count=1 status=none of="$c" 2>/dev/null; do
    n=$(stat -c %s "$c")
    [ "$n" -gt 0 ] || break
    lock
    { printf 'out %s %s %s\n' "$1" "$2" "$n"; cat "$c"; } >&3
    unlock
  done
}

job() {
  local id=$1 tmo=$2 st=$3 cmd=$4 j=$D/jobs/$1 in=/dev/null pg wd='' rc p1='' p2='' t0 flags=-
  now_us
  t0=$REPLY
  [ -f "$j.in" ] && in=$j.in
  set -m
  if [ "$st" = 1 ]; then
    mkfifo "$j.fo" "$j.fe"
    pump "$id" 1 <"$j.fo" &
    p1=$!
    pump "$id" 2 <"$j.fe" &
    p2=$!
    sh -c "$cmd" <"$in" >"$j.fo" 2>"$j.fe" 3>&- &
    pg=$!
  else
    sh -c "$cmd" <"$in" >"$j.o" 2>"$j.e" 3>&- &
    pg=$!
  fi
  echo "$pg" >"$j.pg"
  [ -e "$j.killed" ] && kill -KILL -- "-$pg" 2>/dev/null
  if [ "$tmo" -gt 0 ]; then
    (
      sleep "$((tmo / 1000)).$(printf %03d $((tmo % 1000)))"
      : >"$j.timedout"
      kill -KILL -- "-$pg" 2>/dev/null
    ) 3>&- &
    wd=$!
  fi
  wait "$pg"
  rc=$?
  [ -z "$wd" ] || kill -KILL -- "-$wd" 2>/dev/null
  [ -z "$p1" ] || wait "$p1" "$p2"
  if [ -e "$j.timedout" ]; then
    rc=-1 flags=timeout
  elif [ -e "$j.killed" ]; then
    rc=-1 flags=killed
  fi
  now_us
  if [ "$st" = 1 ]; then emit_done "$id" "$rc" "$((REPLY - t0))" "$flags" '' ''; else emit_done "$id" "$rc" "$((REPLY - t0))" "$flags" "$j.o" "$j.e"; fi
  rm -f "$j".*
}

# REPLY = the fingerprint kept with fact answer $1 (false: no answer)
res_vout() {
  local rc no ne vl
  [ -f "$1" ] || return 1
  {
    IFS=' ' read -r rc no ne vl || return 1
    [[ $vl =~ ^[0-9]+$ ]] || return 1
    REPLY=
    [ "$vl" = 0 ] || IFS= read -r -N "$vl" REPLY
  } <"$1"
}

# When fact $1 was last checked: $2, replaced whole. A plain `>` truncates first, and a fact()
# reading in between saw no time, took the fact as never checked and re-ran it.
set_at() {
  printf %s "$2" >"$1/at.$BASHPID" && mv -f "$1/at.$BASHPID" "$1/at"
}

# Bring fact folder $1 up to date.
refresh_fact() {
  local f=$1 v='' t rc sz c='' vc='' p=$BASHPID
  now_us
  t=$REPLY
  if [ -s "$f/val" ]; then
    IFS= read -r -d '' vc <"$f/val"
    v=$(sh -c "$vc" 2>/dev/null 3>&-)
    if res_vout "$f/res" && [ "$v" = "$REPLY" ]; then
      set_at "$f" "$t"
      return
    fi
  fi
  IFS= read -r -d '' c <"$f/cmd"
  sh -c "$c" </dev/null >"$f/o.$p" 2>"$f/e.$p" 3>&-
  rc=$?
  sz=$(stat -c %s "$f/o.$p" "$f/e.$p")
  # the fingerprint CMD's answer belongs to is the one taken before it: a tree that changed while
  # CMD ran is seen as changed next round (a fact that writes, e.g. a config file, has a validator
  # that says the same only while all is well: `ok`, else something new every time). It is kept
  # in the answer's own file ("RC OUTLEN ERRLEN VLEN", fingerprint, stdout, stderr), replaced
  # whole: an answer never pairs with another run's fingerprint
  { printf '%s %s %s %s\n' "$rc" "${sz%%$'\n'*}" "${sz##*$'\n'}" "${#v}"; printf %s "$v"; cat "$f/o.$p" "$f/e.$p"; } >"$f/r.$p"
  mv -f "$f/r.$p" "$f/res"
  rm -f "$f/o.$p" "$f/e.$p"
  set_at "$f" "$t"
}

fact() {
  local id=$1 key=$2 maxage=$3 val=$4 cmd=$5 f=$FACTS/$2 at=0 rc no ne vl r t0 flags=cached
  now_us
  t0=$REPLY
  if [ ! -f "$f/cmd" ]; then
    mkdir -p "$f"
    printf %s "$t0" >"$f/used"
    # whole or not at all (another agent's refresher may read them)
    printf %s "$val" >"$f/val.$BASHPID" && mv -f "$f/val.$BASHPID" "$f/val"
    printf %s "$cmd" >"$f/cmd.$BASHPID" && mv -f "$f/cmd.$BASHPID" "$f/cmd"
  fi
  printf %s "$t0" >"$f/used"
  [ -f "$f/at" ] && IFS= read -r at <"$f/at"
  # checked by an earlier agent (not this one's refresher: a fact may have changed since that
  # agent ended, e.g. a df before a disk filled): checked again before its first use here
  if [ ! -f "$f/res" ] || [ $((t0 - ${at:-0})) -ge $((maxage * 1000)) ] || [ "${at:-0}" -lt "$AGENT_T0" ]; then
    refresh_fact "$f"
    flags=fresh
  fi
  # one consistent answer: res is replaced whole ("RC OUTLEN ERRLEN" line, stdout, stderr) and read
  # through one open descriptor
  if ! exec {r}<"$f/res"; then
    printf 'conmig-agent: fact %s has no result\n' "$key" >"$D/jobs/$id.e"
    : >"$D/jobs/$id.o"
    now_us
    emit_done "$id" 125 "$((REPLY - t0))" fresh "$D/jobs/$id.o" "$D/jobs/$id.e"
    rm -f "$D/jobs/$id".*
    return
  fi
  IFS=' ' read -r rc no ne vl <&"$r"
  [[ ${vl:-} =~ ^[0-9]+$ ]] && [ "$vl" != 0 ] && IFS= read -r -N "$vl" _ <&"$r"
  now_us
  lock
  { printf 'done %s %s %s %s %s %s\n' "$id" "$rc" "$((REPLY - t0))" "$no" "$ne" "$flags"; cat <&"$r"; } >&3
  unlock
  exec {r}<&-
}

refresher() {
  local f u
  # ends with the agent (also when it was killed and could not say so)
  while sleep "$REFRESH_S" && kill -0 "$AGENT" 2>/dev/null; do
    for f in "$FACTS"/*; do
      [ -f "$f/cmd" ] || continue
      u=
      IFS= read -r u <"$f/used" # (no newline at the end: read says 1, u is set)
      now_us
      # (u empty: the fact is being created or its use written just now)
      # unused for 10 minutes: no longer refreshed (re-checked when used again); removed after a week
      if [ -n "$u" ] && [ $((REPLY - u)) -gt 600000000 ]; then
        [ $((REPLY - u)) -gt 604800000000 ] && rm -rf "$f"
        continue
      fi
      refresh_fact "$f"
    done
  done
}

AGENT=$$
now_us
AGENT_T0=$REPLY
refresher 3>&- &
RPID=$!

quit() {
  kill "$RPID" 2>/dev/null
  wait
  rm -rf "$D"
}
trap quit EXIT

lock
printf 'hello conmig-agent %s %s %s\n' "$PROTO" "$(sha256sum <"$0" | cut -c1-64)" "$$" >&3
unlock

while IFS=' ' read -r op id a b c d; do
  case $op in
    run)
      cmd=''
      [ "$c" -gt 0 ] && IFS= read -r -N "$c" cmd
      [ "$d" -gt 0 ] && head -c "$d" >"$D/jobs/$id.in"
      job "$id" "$a" "$b" "$cmd" 2>/dev/null &
      ;;
    fact)
      val='' cmd=''
      [ "$c" -gt 0 ] && IFS= read -r -N "$c" val
      [ "$d" -gt 0 ] && IFS= read -r -N "$d" cmd
      fact "$id" "$a" "$b" "$val" "$cmd" 2>/dev/null &
      ;;
    kill)
      : >"$D/jobs/$id.killed"
      if [ -f "$D/jobs/$id.pg" ]; then
        IFS= read -r pg <"$D/jobs/$id.pg" && kill -KILL -- "-$pg" 2>/dev/null
      fi
      ;;
    ping)
      lock
      printf 'done %s 0 0 0 0 -\n' "$id" >&3
      unlock
      ;;
    bye) break ;;
    *)
      msg="conmig-agent: unknown request '$op'"
      lock
      printf 'err %s\n%s' "${#msg}" "$msg" >&3
      unlock
      ;;
  esac
done
