#!/usr/bin/env bash
# Install and verify what conmig's live side needs on a Debian 12 (bookworm) host:
#   openssh-server, runc, iptables, iproute2, busybox-static, tesseract-ocr(+eng),
#   gcc (static workload builds), and CRIU 4.2.1 from Debian forky unpacked into a
#   private prefix (/opt/conmig/criu) behind a /usr/local/bin/criu wrapper, so that
#   the system's libc and apt state are not touched (see shared notes: bookworm's
#   CRIU 3.17 does not work on this kernel, forky's 4.2.1 needs glibc >= 2.38).
#   For post-copy, CRIU 4.2.1 again, built from Debian's pinned source with
#   scripts/criu-lazy-pages.patch into /opt/conmig/criu-lazy behind /usr/local/bin/criu-lazy-pages:
#   only the destination's lazy-pages daemon runs it.
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
#        CONMIG_CRIU_WRAPPER (default /usr/local/bin/criu),
#        CONMIG_CRIU_LAZY (default 1; 0: no patched lazy-pages daemon), CONMIG_CRIU_LAZY_PREFIX
#        (default /opt/conmig/criu-lazy), CONMIG_CRIU_LAZY_WRAPPER (default
#        /usr/local/bin/criu-lazy-pages): every folder is created here,
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

# ------------------------------- post-copy: criu-lazy-pages (CRIU + conmig's lazy-pages patch)
# CRIU 4.2.1's lazy-pages daemon (the destination's side of post-copy) waits a round trip per
# background chunk and fetches one page per fault (criu/uffd.c): about 40-80 MB/s on a 1 Gbit/s
# link here. scripts/criu-lazy-pages.patch pipelines the background chunks and fetches 64 KiB
# per fault (docs/migrate.md, "The lazy-pages daemon"). Built from Debian forky's pinned
# source tarball (sha256 below, as in criu_4.2.1-1.dsc) against this host's libraries, into
# its own prefix; used ONLY for `criu lazy-pages` (conmig picks `criu-lazy-pages` from PATH):
# the dumps, restores and the cold path keep the CRIU above. CONMIG_CRIU_LAZY=0 skips it
# (post-copy then runs the stock daemon). About 2 minutes on 2 cores.
if [ "${CONMIG_CRIU_LAZY:-1}" != 0 ]; then
  LAZY_PREFIX="${CONMIG_CRIU_LAZY_PREFIX:-/opt/conmig/criu-lazy}"
  LAZY_WRAPPER="${CONMIG_CRIU_LAZY_WRAPPER:-/usr/local/bin/criu-lazy-pages}"
  LAZY_SRC=criu_4.2.1.orig.tar.xz
  LAZY_SHA=29ec0ee09e296479fe7048c80980e8ef1d0684d0b0204c2b101dfea19f6725b9
  LAZY_PATCH="$HERE/scripts/criu-lazy-pages.patch"
  LAZY_STAMP="$LAZY_SRC $LAZY_SHA patch $(sha256sum "$LAZY_PATCH" | cut -c1-16)"
  LAZY_DEPS=(make pkg-config libbsd-dev libcap-dev libnet1-dev libnl-3-dev libprotobuf-c-dev
    libprotobuf-dev protobuf-c-compiler protobuf-compiler uuid-dev libgnutls28-dev)
  LAZY_WRAP_TEXT="#!/bin/sh
# conmig: CRIU 4.2.1 with scripts/criu-lazy-pages.patch, for \`criu lazy-pages\` only (post-copy)
exec \"$LAZY_PREFIX/bin/criu\" \"\$@\""
  mkdir -p "$(dirname "$LAZY_PREFIX")" "$(dirname "$LAZY_WRAPPER")" 2>/dev/null
  if [ "$(cat "$LAZY_PREFIX/.conmig-installed" 2>/dev/null)" = "$LAZY_STAMP" ] && [ -x "$LAZY_PREFIX/bin/criu" ]; then
    say "==> criu-lazy-pages: already built in $LAZY_PREFIX"
  else
    say "==> criu-lazy-pages: building CRIU 4.2.1 + scripts/criu-lazy-pages.patch into $LAZY_PREFIX"
    lazy_build() {
      local need=() p src="$APTDIR/src" b
      for p in "${LAZY_DEPS[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
      done
      if [ ${#need[@]} -gt 0 ]; then
        run apt-get update || return 1
        run apt-get install -y --no-install-recommends "${need[@]}" || { say "    apt-get install ${need[*]} failed"; return 1; }
      fi
      # the source tarball through apt (deb-src of forky, private apt state), checked against the pin
      mkdir -p "$src/sources.d" "$src/lists/partial" "$src/cache/archives/partial" "$src/dl"
      printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: forky\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' >"$src/sources.d/forky-src.sources"
      local O=(-o "Dir::Etc::sourcelist=/dev/null" -o "Dir::Etc::sourceparts=$src/sources.d"
        -o "Dir::State::Lists=$src/lists" -o "Dir::Cache=$src/cache" -o "APT::Get::List-Cleanup=0")
      if ! echo "$LAZY_SHA  $src/dl/$LAZY_SRC" | sha256sum -c --status 2>/dev/null; then
        run apt-get "${O[@]}" update || return 1
        (cd "$src/dl" && rm -f ./*.tar.* && run apt-get "${O[@]}" source --download-only --tar-only criu=4.2.1-1) || true
        echo "$LAZY_SHA  $src/dl/$LAZY_SRC" | sha256sum -c --status || { say "    $LAZY_SRC missing or not the pinned one"; return 1; }
      fi
      b="$LAZY_PREFIX.build"
      rm -rf "$b" && mkdir -p "$b" && tar -xJf "$src/dl/$LAZY_SRC" -C "$b" --strip-components=1 || return 1
      (cd "$b" && run patch -p1 -i "$LAZY_PATCH") || { say "    the patch does not apply"; return 1; }
      (cd "$b" && run make -j"$(nproc)" criu) || { say "    make criu failed"; return 1; }
      rm -rf "$LAZY_PREFIX.new" && mkdir -p "$LAZY_PREFIX.new/bin" && cp "$b/criu/criu" "$LAZY_PREFIX.new/bin/criu" || return 1
      # verified before it replaces anything: CRIU's own check, uffd, and the patch really in
      "$LAZY_PREFIX.new/bin/criu" check >>"$LOG" 2>&1 || { say "    criu check of the build failed"; return 1; }
      "$LAZY_PREFIX.new/bin/criu" check --feature uffd-noncoop >>"$LOG" 2>&1 || { say "    the build lacks uffd-noncoop"; return 1; }
      grep -q 'background in flight' "$LAZY_PREFIX.new/bin/criu" || { say "    the build lacks the patch"; return 1; }
      echo "$LAZY_STAMP" >"$LAZY_PREFIX.new/.conmig-installed"
      rm -rf "$LAZY_PREFIX" && mv "$LAZY_PREFIX.new" "$LAZY_PREFIX" && rm -rf "$b"
    }
    t0=$(date +%s)
    if lazy_build; then say "    built in $(( $(date +%s) - t0 )) s"; else MISSING+=("criu-lazy-pages build (details in $LOG; CONMIG_CRIU_LAZY=0 skips it)"); fi
  fi
  if [ -x "$LAZY_PREFIX/bin/criu" ] && [ "$(cat "$LAZY_WRAPPER" 2>/dev/null)" != "$LAZY_WRAP_TEXT" ]; then
    printf '%s\n' "$LAZY_WRAP_TEXT" >"$LAZY_WRAPPER" && chmod 755 "$LAZY_WRAPPER"
    say "    wrote $LAZY_WRAPPER"
  fi
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
  # The loop rewrites /count with `echo > /count` (truncate, then write): a read can land in
  # between and see an empty file, so read until it holds a number.
  count_of() {
    local v="" k
    for k in 1 2 3 4 5 6 7 8 9 10; do
      v=$(cat "$1" 2>/dev/null); case "$v" in ''|*[!0-9]*) sleep 0.01 ;; *) echo "$v"; return 0 ;; esac
    done
    echo "${v:-0}"
  }
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
      a=$(count_of "$d/rootfs/count"); sleep 0.3; b=$(count_of "$d/rootfs/count")
      if [ "$a" = "$b" ] && runc restore -d --image-path "$d/img" --work-path "$d/work" --bundle "$d" "$id" \
        </dev/null >/dev/null 2>&1; then
        sleep 0.5; c=$(count_of "$d/rootfs/count")
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
if [ "${CONMIG_CRIU_LAZY:-1}" != 0 ]; then
  say "  criu-lazy-pages: $("$LAZY_WRAPPER" --version 2>/dev/null | head -1 || echo missing) + lazy-pages patch ($LAZY_WRAPPER -> $LAZY_PREFIX), check: $("$LAZY_WRAPPER" check 2>&1 | grep -q 'Looks good' && echo 'Looks good' || echo FAILED)"
fi
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
