#!/usr/bin/env bash
# Install and verify what conmig's live side needs on a Debian 12 (bookworm) host:
#   openssh-server, runc, iptables, iproute2, busybox-static, tesseract-ocr(+eng),
#   gcc (static workload builds), and CRIU 4.2.1 from Debian forky unpacked into a
#   private prefix (/opt/conmig/criu) behind a /usr/local/bin/criu wrapper, so that
#   the system's libc and apt state are not touched (see shared notes: bookworm's
#   CRIU 3.17 does not work on this kernel, forky's 4.2.1 needs glibc >= 2.38).
# Then builds the workload images (workloads/build.sh) and verifies everything:
#   criu --version, criu check, criu features, a runc checkpoint/restore smoke test,
#   sshd present. Exits non-zero naming what is missing.
#
# Idempotent: a second run installs nothing and only re-verifies (a few seconds).
# Usage: bash scripts/setup-live.sh        (as root)
# Env:   CONMIG_CRIU_VERSION (default 4.2.1; a prefix of the Debian version)
#        CONMIG_SETUP_LOG (default /var/log/conmig-setup.log)
#        CONMIG_IMAGES (default /var/lib/conmig/images)
#        CONMIG_CRIU_PREFIX (default /opt/conmig/criu), CONMIG_APT_DIR (default /opt/conmig/apt),
#        CONMIG_CRIU_WRAPPER (default /usr/local/bin/criu): every folder is created here,
#        so the script can be run into empty folders (test/setup/fresh-folders.test.ts)
set -uo pipefail

CRIU_WANT="${CONMIG_CRIU_VERSION:-4.2.1}"
LOG="${CONMIG_SETUP_LOG:-/var/log/conmig-setup.log}"
PREFIX="${CONMIG_CRIU_PREFIX:-/opt/conmig/criu}"
APTDIR="${CONMIG_APT_DIR:-/opt/conmig/apt}"
WRAPPER="${CONMIG_CRIU_WRAPPER:-/usr/local/bin/criu}"
IMAGES="${CONMIG_IMAGES:-/var/lib/conmig/images}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
APT_PKGS=(openssh-server openssh-client runc iptables iproute2 util-linux procps
  busybox-static tesseract-ocr tesseract-ocr-eng gcc libc6-dev)

MISSING=()
mkdir -p "$(dirname "$LOG")" "$(dirname "$PREFIX")" "$(dirname "$WRAPPER")" 2>/dev/null
: >>"$LOG" || { echo "setup-live: cannot write log $LOG" >&2; exit 1; }
echo "==== $(date -Is) setup-live.sh" >>"$LOG"
say() { printf '%s\n' "$*"; printf '%s\n' "$*" >>"$LOG"; }
run() { printf '+ %s\n' "$*" >>"$LOG"; "$@" >>"$LOG" 2>&1; }
fail() { say "setup-live: FAILED: $*"; say "  (details in $LOG)"; exit 1; }

[ "$(id -u)" = 0 ] || fail "must run as root"
export DEBIAN_FRONTEND=noninteractive

# ---------------------------------------------------------------- apt packages
need=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  say "==> apt: installing ${need[*]}"
  run apt-get update || fail "apt-get update"
  run apt-get install -y --no-install-recommends "${need[@]}" || fail "apt-get install ${need[*]}"
else
  say "==> apt: all ${#APT_PKGS[@]} packages already installed"
fi

# ------------------------------------------------- CRIU from forky, private prefix
# Extra apt source used ONLY for `apt-get download`: private sources, lists and cache,
# so the system's apt state is untouched and nothing is upgraded.
APT_OPTS=(-o "Dir::Etc::sourcelist=/dev/null" -o "Dir::Etc::sourceparts=$APTDIR/sources.d"
  -o "Dir::State::Lists=$APTDIR/lists" -o "Dir::Cache=$APTDIR/cache" -o "APT::Get::List-Cleanup=0")
criu_ok() {
  [ -f "$PREFIX/.conmig-installed" ] && grep -q "^criu=$CRIU_WANT" "$PREFIX/.conmig-installed" \
    && [ -x "$PREFIX/usr/sbin/criu" ] && [ -x "$WRAPPER" ] && grep -q "$PREFIX" "$WRAPPER"
}
if criu_ok; then
  say "==> criu: $(head -1 "$PREFIX/.conmig-installed") already in $PREFIX"
else
  say "==> criu: downloading $CRIU_WANT and its libraries from Debian forky into $PREFIX"
  mkdir -p "$APTDIR/sources.d" "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial" "$APTDIR/debs"
  cat >"$APTDIR/sources.d/forky.sources" <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: forky
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  run apt-get "${APT_OPTS[@]}" update || fail "apt-get update of the private forky source"
  ver=$(apt-cache "${APT_OPTS[@]}" madison criu | awk -F'|' '{gsub(/ /,"",$2); print $2}' | grep "^$CRIU_WANT" | head -1)
  if [ -z "$ver" ]; then
    ver=$(apt-cache "${APT_OPTS[@]}" madison criu | awk -F'|' '{gsub(/ /,"",$2); print $2}' | head -1)
    [ -n "$ver" ] || fail "criu not found in forky"
    say "    WARNING: criu $CRIU_WANT not in forky any more; taking $ver (verified by criu check below)"
  fi
  # criu's dependency closure, libraries only (lib*), resolved from the private state.
  deps=$(apt-cache "${APT_OPTS[@]}" depends --recurse --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances "criu=$ver" | grep -v '^ ' | grep -v '^<' | grep '^lib' | sort -u)
  echo "$deps" | grep -qx libc6 || deps="$deps libc6"
  echo "$deps" | grep -qx libcompel1 || deps="$deps libcompel1"
  cd "$APTDIR/debs" || fail "cd $APTDIR/debs"
  rm -f ./*.deb
  # shellcheck disable=SC2086
  run apt-get "${APT_OPTS[@]}" download "criu=$ver" $deps || fail "apt-get download criu=$ver $deps"
  rm -rf "$PREFIX.new" && mkdir -p "$PREFIX.new"
  for d in ./*.deb; do run dpkg-deb -x "$d" "$PREFIX.new" || fail "dpkg-deb -x $d"; done
  cd "$HERE" || true
  [ -x "$PREFIX.new/usr/sbin/criu" ] || fail "criu binary not in the downloaded packages"
  [ -e "$PREFIX.new/usr/lib64/ld-linux-x86-64.so.2" ] || fail "forky loader missing (libc6 not unpacked)"
  { echo "criu=$ver"; for d in "$APTDIR"/debs/*.deb; do basename "$d"; done; } >"$PREFIX.new/.conmig-installed"
  rm -rf "$PREFIX" && mv "$PREFIX.new" "$PREFIX"
  say "    took: $(tr '\n' ' ' <"$PREFIX/.conmig-installed")"
fi
WRAP_TEXT="#!/bin/sh
# conmig: CRIU from Debian forky in a private prefix, run through its own loader
# (written by scripts/setup-live.sh; the system libc is not touched).
P=$PREFIX
exec \"\$P/usr/lib64/ld-linux-x86-64.so.2\" --library-path \"\$P/usr/lib/x86_64-linux-gnu:\$P/lib/x86_64-linux-gnu\" \"\$P/usr/sbin/criu\" \"\$@\""
if [ "$(cat "$WRAPPER" 2>/dev/null)" != "$WRAP_TEXT" ]; then
  printf '%s\n' "$WRAP_TEXT" >"$WRAPPER" && chmod 755 "$WRAPPER"
  say "    wrote $WRAPPER"
fi

# ------------------------------------------------------------- workload images
say "==> workloads: building images into $IMAGES (skipped when up to date)"
if ! bash "$HERE/workloads/build.sh" "$IMAGES" >>"$LOG" 2>&1; then
  MISSING+=("workload images (workloads/build.sh $IMAGES)")
fi

# ------------------------------------------------------- post-copy: pipe size
# CRIU's lazy page server (post-copy) sizes its pipes to 4 MiB with F_SETPIPE_SZ; above
# fs.pipe-max-size that needs CAP_SYS_RESOURCE, which this machine's bounding set lacks.
# CRIU then ignores the failure and its page server dies at the first page the destination
# asks for ("page-pipe: splice: -1: Bad file descriptor"). Raise the limit (and keep it).
PIPE_WANT=4194304
if [ "$(cat /proc/sys/fs/pipe-max-size 2>/dev/null || echo 0)" -lt $PIPE_WANT ]; then
  say "==> fs.pipe-max-size -> $PIPE_WANT (CRIU lazy pages)"
  echo $PIPE_WANT > /proc/sys/fs/pipe-max-size 2>>"$LOG" || say "    WARNING: cannot set fs.pipe-max-size: post-copy will be refused"
  { [ -d /etc/sysctl.d ] && echo "fs.pipe-max-size = $PIPE_WANT" > /etc/sysctl.d/60-conmig-criu.conf; } 2>>"$LOG" || true
fi

# ---------------------------------------------------------------------- verify
say "==> verify"
CRIU_VERSION=$("$WRAPPER" --version 2>>"$LOG" | head -1)
[ -n "$CRIU_VERSION" ] || MISSING+=("criu --version")
CHECK=$("$WRAPPER" check 2>&1); echo "$CHECK" >>"$LOG"
echo "$CHECK" | grep -q 'Looks good' || MISSING+=("criu check (\"$(echo "$CHECK" | tail -1)\")")
features=""
for f in uffd-noncoop uffd mem_dirty_track; do
  if "$WRAPPER" check --feature "$f" >>"$LOG" 2>&1; then features="$features $f=yes"; else features="$features $f=no"; fi
done
for t in runc sshd iptables-restore nsenter ip tc tesseract busybox gcc; do
  command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] || [ -x "/bin/$t" ] || MISSING+=("$t")
done
[ -f /usr/share/tesseract-ocr/5/tessdata/eng.traineddata ] || ls /usr/share/tesseract-ocr/*/tessdata/eng.traineddata >/dev/null 2>&1 \
  || MISSING+=("tesseract eng.traineddata")

# runc + CRIU smoke test: a busybox counter loop is checkpointed and restored,
# and the counter must go on from where it was (the same process, not a restart).
smoke() {
  local d id=conmig-smoke-$$ a b c
  # runc finds criu on PATH: put this setup's wrapper first (it may not be /usr/local/bin)
  local PATH="$(dirname "$WRAPPER"):$PATH"
  d=$(mktemp -d /tmp/conmig-smoke.XXXXXX)
  mkdir -p "$d/rootfs/bin" && cp "$(command -v busybox)" "$d/rootfs/bin/busybox"
  (cd "$d" && runc spec) || { rm -rf "$d"; return 1; }
  sed -i -e 's/"terminal": true/"terminal": false/' -e 's/"readonly": true/"readonly": false/' \
    -e 's|^\(\s*\)"sh"$|\1"/bin/busybox", "sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /count; /bin/busybox usleep 50000; done"|' \
    "$d/config.json"
  local rc=1
  # stdio must be /dev/null: CRIU cannot dump a container whose stdout is a host file
  if runc run -d --bundle "$d" "$id" </dev/null >/dev/null 2>&1; then
    sleep 1.5
    if runc checkpoint --image-path "$d/img" --work-path "$d/work" "$id" >>"$LOG" 2>&1; then
      a=$(cat "$d/rootfs/count"); sleep 0.3; b=$(cat "$d/rootfs/count")
      if [ "$a" = "$b" ] && runc restore -d --image-path "$d/img" --work-path "$d/work" --bundle "$d" "$id" \
        </dev/null >/dev/null 2>&1; then
        sleep 0.5; c=$(cat "$d/rootfs/count")
        echo "smoke: counter at checkpoint $a, 0.5 s after restore $c" >>"$LOG"
        [ "$c" -gt "$a" ] && rc=0
      fi
    fi
  fi
  [ $rc = 0 ] || { for f in "$d"/work/*.log; do [ -f "$f" ] && { echo "--- $f" && tail -20 "$f"; } >>"$LOG"; done; }
  runc kill "$id" KILL >/dev/null 2>&1; sleep 0.2; runc delete -f "$id" >/dev/null 2>&1
  rm -rf "$d"
  return $rc
}
if smoke; then SMOKE=ok; else SMOKE=FAILED; MISSING+=("runc checkpoint/restore smoke test"); fi

say ""
say "conmig live setup summary"
say "  criu:      ${CRIU_VERSION:-missing} ($WRAPPER -> $PREFIX)"
say "  criu check: $(echo "$CHECK" | grep -q 'Looks good' && echo 'Looks good' || echo FAILED)"
say "  features: $features   (mem_dirty_track=no: no pre-copy; uffd-noncoop=yes: post-copy possible)"
say "  fs.pipe-max-size: $(cat /proc/sys/fs/pipe-max-size 2>/dev/null) (post-copy needs >= $PIPE_WANT)"
say "  runc:      $(runc --version 2>/dev/null | head -1)   smoke checkpoint/restore: $SMOKE"
say "  sshd:      $(command -v sshd || echo /usr/sbin/sshd)   $(ssh -V 2>&1)"
say "  tesseract: $(tesseract --version 2>&1 | head -1)"
say "  images:    $IMAGES: $(ls "$IMAGES" 2>/dev/null | tr '\n' ' ')"
say "  log:       $LOG"
if [ ${#MISSING[@]} -gt 0 ]; then
  say "setup-live: FAILED, missing or not working:"
  for m in "${MISSING[@]}"; do say "  - $m"; done
  exit 1
fi
say "setup-live: OK"
