#!/usr/bin/env bash
# Build conmig's workload images from sources and host Debian packages (no registry):
#   OUT/plate/rootfs      static plate-server + tesseract (+ its shared libs, found with
#                         ldd) + eng.traineddata + generated plate images + busybox
#   OUT/synthetic/rootfs  static synthetic workload + busybox
#   OUT/<image>/image.json  args, port and env of the image (read by conmig testbed)
# Skips the build when OUT/.stamp matches the hash of the sources and of the
# host's tesseract/busybox binaries. Needs gcc (static libc), tesseract-ocr(+eng),
# busybox-static: scripts/setup-live.sh installs them.
#
# Usage: bash workloads/build.sh OUT
set -euo pipefail
OUT="${1:?usage: build.sh OUTDIR}"
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TESS="$(command -v tesseract || true)"
BUSYBOX="$(command -v busybox || echo /bin/busybox)"
TESSDATA="$(ls -d /usr/share/tesseract-ocr/*/tessdata 2>/dev/null | head -1 || true)"

stamp=$( { cat "$SRC/build.sh" "$SRC"/src/*; sha256sum "$BUSYBOX" ${TESS:+"$TESS"} 2>/dev/null; echo "$TESSDATA"; } | sha256sum | cut -c1-16)
if [ -f "$OUT/.stamp" ] && [ "$(cat "$OUT/.stamp")" = "$stamp" ]; then
  echo "workloads: $OUT up to date ($stamp)"
  exit 0
fi
[ -x "$BUSYBOX" ] || { echo "workloads: busybox-static missing" >&2; exit 1; }

# The build folder sits beside OUT (same filesystem, so the final mv is atomic);
# on a fresh machine OUT's parent (e.g. /var/lib/conmig) does not exist yet.
mkdir -p "$(dirname "${OUT%/}")"
tmp="$(mktemp -d "${OUT%/}.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin"
gcc -O2 -static -Wall -o "$tmp/bin/plate-server" "$SRC/src/plate-server.c"
gcc -O2 -static -Wall -o "$tmp/bin/synthetic" "$SRC/src/synthetic.c" -lm
gcc -O2 -Wall -o "$tmp/bin/gen-plates" "$SRC/src/gen-plates.c"

base_rootfs() { # dir
  mkdir -p "$1"/{bin,dev,proc,sys,tmp,etc}
  cp "$BUSYBOX" "$1/bin/busybox"
  ln -sf busybox "$1/bin/sh"
  echo 'root:x:0:0:root:/:/bin/sh' >"$1/etc/passwd"
  chmod 1777 "$1/tmp"
}
copy_with_libs() { # binary rootfs: copy the binary and every shared library ldd lists
  local bin="$1" root="$2" lib
  mkdir -p "$root$(dirname "$bin")"
  cp -L "$bin" "$root$bin"
  for lib in $(ldd "$bin" | awk '/=> \//{print $3} /^[[:space:]]*\//{print $1}'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}

# plate
P="$tmp/plate/rootfs"
base_rootfs "$P"
cp "$tmp/bin/plate-server" "$P/bin/plate-server"
mkdir -p "$P/plates"
"$tmp/bin/gen-plates" "$P/plates"
if [ -n "$TESS" ] && [ -n "$TESSDATA" ]; then
  copy_with_libs "$TESS" "$P"
  mkdir -p "$P$TESSDATA"
  cp "$TESSDATA/eng.traineddata" "$P$TESSDATA/"
  [ -f "$TESSDATA/osd.traineddata" ] && cp "$TESSDATA/osd.traineddata" "$P$TESSDATA/"
else
  echo "workloads: WARNING: tesseract not installed; the plate service will answer with an error field" >&2
fi
cat >"$tmp/plate/image.json" <<EOF
{ "image": "plate", "args": ["/bin/plate-server", "8080", "/plates", "/usr/bin/tesseract"], "port": 8080,
  "env": ["PATH=/bin:/usr/bin", "OMP_THREAD_LIMIT=1"${TESSDATA:+, \"TESSDATA_PREFIX=$TESSDATA\"}] }
EOF

# synthetic (memory and dirty rate are set per container by `conmig testbed`)
S="$tmp/synthetic/rootfs"
base_rootfs "$S"
cp "$tmp/bin/synthetic" "$S/bin/synthetic"
cat >"$tmp/synthetic/image.json" <<'EOF'
{ "image": "synthetic", "args": ["/bin/synthetic", "8081", "64", "0"], "port": 8081, "env": ["PATH=/bin"] }
EOF

mkdir -p "$OUT"
for img in plate synthetic; do
  rm -rf "$OUT/$img.old"
  [ -d "$OUT/$img" ] && mv "$OUT/$img" "$OUT/$img.old"
  mv "$tmp/$img" "$OUT/$img"
  rm -rf "$OUT/$img.old"
done
echo "$stamp" >"$OUT/.stamp"
echo "workloads: built $OUT (plate $(du -sm "$OUT/plate" | cut -f1) MiB, synthetic $(du -sm "$OUT/synthetic" | cut -f1) MiB)"
