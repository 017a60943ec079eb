#!/usr/bin/env bash
# Part B's minimal live rig (used by test/live/migrate*.test.ts until/unless
# the shared testbed is up): N network namespaces on their own bridge, one
# sshd per node started with nsenter (not `ip netns exec`, see
# shared/notes/live-platform.md), per-node workDir and runc root, node-to-node
# ssh keys, an inventory.yaml in the shared format.
#
# It lives on 10.77.0.192/28 (bridge 10.77.0.193, nodes .194..) so it can run
# beside the shared testbed (10.77.0.0/24 on cm-br0) without clashing: the
# more specific route wins in the root namespace.
#
#   rig.sh up STATE_DIR [NODES]        create (idempotent: tears down first)
#   rig.sh down STATE_DIR              tear everything down (idempotent)
#   rig.sh shape STATE_DIR MBIT|off    shape every node link (tbf both ways)
#   rig.sh counter STATE_DIR NODE NAME start a stateful counter container
set -uo pipefail
CMD=${1:?cmd}; STATE=${2:?state dir}
# RIG_PFX/RIG_NET/RIG_BASE/RIG_ROOT/RIG_RUN move the rig elsewhere (e.g. a helper's own
# experiments beside the shared rig); the defaults are the shared rig's.
PFX=${RIG_PFX:-cmb}
BR=${PFX}-br0
NET=${RIG_NET:-10.77.0}
BASE=${RIG_BASE:-193}
RIGROOT=${RIG_ROOT:-/var/lib/conmig/rigb}
RUNROOT=${RIG_RUN:-/run/conmig/rigb}

node_names() { ls "$STATE/nodes" 2>/dev/null; }

down() {
  for n in $(node_names); do
    local pidf="$STATE/nodes/$n/sshd.pid"
    [ -f "$pidf" ] && kill "$(cat "$pidf")" 2>/dev/null
    local rr="$RUNROOT/$n/runc"
    if [ -d "$rr" ]; then
      for c in $(runc --root "$rr" list -q 2>/dev/null); do runc --root "$rr" delete -f "$c" >/dev/null 2>&1; done
    fi
  done
  for i in $(seq 1 9); do
    ip netns del ${PFX}-node$i 2>/dev/null
    ip link del ${PFX}-v$i 2>/dev/null
  done
  ip link del $BR 2>/dev/null
  # a tiny tmpfs a fault test may have left mounted over a workDir
  # and whatever a crashed CRIU restore left mounted (cgroup yards, criu-root)
  for m in $(awk '{print $2}' /proc/mounts | grep -E "^($RIGROOT|$RUNROOT)/" | sort -r); do umount -l "$m" 2>/dev/null; done
  rm -rf --one-file-system "$RIGROOT" "$RUNROOT" "$STATE"
  return 0
}

up() {
  local count=${1:-3}
  down
  mkdir -p "$STATE/nodes" /run/sshd
  ssh-keygen -q -t ed25519 -N '' -f "$STATE/id_ed25519" -C conmig-rigb-controller
  ssh-keygen -q -t ed25519 -N '' -f "$STATE/node_ed25519" -C conmig-rigb-node
  cat "$STATE/id_ed25519.pub" "$STATE/node_ed25519.pub" > "$STATE/authorized_keys"
  chmod 600 "$STATE/authorized_keys"
  : > "$STATE/known_hosts"
  ip link add $BR type bridge && ip addr add $NET.$BASE/28 dev $BR && ip link set $BR up
  {
    echo "version: 1"
    echo "kind: local"
    echo "controller: { sshKey: $STATE/id_ed25519, knownHosts: $STATE/known_hosts }"
    echo "nodes:"
  } > "$STATE/inventory.yaml"
  for i in $(seq 1 "$count"); do
    local n=node$i ns=${PFX}-node$i addr=$NET.$((BASE + i)) nd="$STATE/nodes/node$i"
    mkdir -p "$nd" "$RIGROOT/$n"/{bundles,images,checkpoints,tmp,.ssh} "$RUNROOT/$n/runc"
    ip netns add $ns
    ip link add ${PFX}-v$i type veth peer name eth0 netns $ns
    ip link set ${PFX}-v$i master $BR up
    ip -n $ns addr add $addr/28 dev eth0
    ip -n $ns link set eth0 up
    ip -n $ns link set lo up
    ssh-keygen -q -t ed25519 -N '' -f "$nd/ssh_host_ed25519_key"
    cat > "$nd/sshd_config" <<CONF
ListenAddress $addr
Port 22
HostKey $nd/ssh_host_ed25519_key
PidFile $nd/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile $STATE/authorized_keys
StrictModes no
UsePAM no
MaxSessions 64
MaxStartups 64:30:128
LogLevel ERROR
CONF
    nsenter --net=/run/netns/$ns /usr/sbin/sshd -f "$nd/sshd_config" -E "$nd/sshd.log" || { echo "sshd failed on $n" >&2; exit 1; }
    echo "$addr $(cut -d' ' -f1,2 "$nd/ssh_host_ed25519_key.pub")" >> "$STATE/known_hosts"
    cat >> "$STATE/inventory.yaml" <<YAML
  - name: $n
    address: $addr
    sshPort: 22
    user: root
    netns: $ns
    workDir: $RIGROOT/$n
    runcRoot: $RUNROOT/$n/runc
    criuPath: $(command -v criu)
    imagesDir: $RIGROOT/$n/images
    bundlesDir: $RIGROOT/$n/bundles
    transfer: { key: $RIGROOT/$n/.ssh/id_ed25519, knownHosts: $RIGROOT/$n/.ssh/known_hosts }
YAML
  done
  # node-to-node key: every node holds the node key and the known_hosts of all nodes in workDir/.ssh
  for n in $(node_names); do
    cp "$STATE/node_ed25519" "$RIGROOT/$n/.ssh/id_ed25519"; chmod 600 "$RIGROOT/$n/.ssh/id_ed25519"
    cp "$STATE/known_hosts" "$RIGROOT/$n/.ssh/known_hosts"
  done
  cat >> "$STATE/inventory.yaml" <<YAML
containers:
  - { name: counter, node: node1, image: counter, port: 8080 }
  - { name: counter2, node: node1, image: counter, port: 8080 }
  - { name: big, node: node1, image: counter, port: 8080 }
YAML
  # the counter image, pre-pulled on every node (identical content)
  for n in $(node_names); do image "$RIGROOT/$n/images/counter/rootfs"; done
  # wait for every sshd to answer
  for i in $(seq 1 "$count"); do
    for _ in $(seq 1 50); do
      nsenter --net=/run/netns/${PFX}-node$i true 2>/dev/null
      (exec 3<>/dev/tcp/$NET.$((BASE + i))/22) 2>/dev/null && break
      sleep 0.1
    done
  done
}

shape() {
  local rate=$1
  for i in $(seq 1 9); do
    ip link show ${PFX}-v$i >/dev/null 2>&1 || continue
    tc qdisc del dev ${PFX}-v$i root 2>/dev/null
    ip netns exec ${PFX}-node$i tc qdisc del dev eth0 root 2>/dev/null
    if [ "$rate" != off ]; then
      tc qdisc add dev ${PFX}-v$i root tbf rate ${rate}mbit burst 256kb latency 500ms
      nsenter --net=/run/netns/${PFX}-node$i tc qdisc add dev eth0 root tbf rate ${rate}mbit burst 256kb latency 500ms
    fi
  done
}

# The counter image: busybox httpd on :8080 serving /health and /state.
# The state lives in the memory of a long-running shell (pid 1 of the
# container): a tick counter, its start time and its pid, written to
# /dev/shm/state (tmpfs, so the rootfs stays identical to the image and the
# destination's copy can be reused) every 50 ms. A fresh start would begin
# again at count=1 with a new start time, so the counter continuing proves the
# process itself migrated. Optional ballast (MiB) the shell keeps in memory.
image() {
  local r=$1
  mkdir -p "$r"/{bin,www,tmp,proc,sys,dev}
  cp /bin/busybox "$r/bin/busybox"
  for a in sh httpd cat date sleep head tr mv; do ln -sf busybox "$r/bin/$a"; done
  echo ok > "$r/www/health"
  ln -sf /dev/shm/state "$r/www/state"
  cat > "$r/bin/start" <<'INIT'
#!/bin/sh
httpd -p 8080 -h /www
START=$(date +%s)
if [ "${BALLAST_MIB:-0}" -gt 0 ]; then
  BALLAST=$(head -c $((BALLAST_MIB * 1048576)) /dev/zero | tr '\0' x)
fi
n=0
while true; do
  n=$((n + 1))
  echo "count=$n start=$START pid=$$" > /dev/shm/state.tmp
  mv /dev/shm/state.tmp /dev/shm/state
  sleep 0.05
done
INIT
  chmod +x "$r/bin/start"
}

# Start container NAME from the counter image on NODE.
counter() {
  local n=$1 name=$2 ballast=${3:-0}
  local b="$RIGROOT/$n/bundles/$name" rr="$RUNROOT/$n/runc"
  local i=${n#node}
  mkdir -p "$b"
  rm -f "$b/config.json"; (cd "$b" && runc spec)
  # edit config: no terminal, our args, netns path, hostname
  node - "$b/config.json" "$i" "$ballast" "$RIGROOT/$n/images/counter/rootfs" "$PFX" <<'JS'
const fs = require('node:fs');
const [p, i, ballast, , pfx] = process.argv.slice(2);
const c = JSON.parse(fs.readFileSync(p, 'utf8'));
c.process.terminal = false;
c.process.args = ['/bin/sh', '/bin/start'];
c.process.env.push('BALLAST_MIB=' + ballast);
c.root.readonly = false;
c.root.path = process.argv[5];
c.mounts.push({ destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'nodev', 'mode=1777', 'size=2g'] });
c.mounts = c.mounts.filter((m, k, all) => all.findIndex((x) => x.destination === m.destination) === k || m.destination !== '/dev/shm');
for (const ns of c.linux.namespaces) if (ns.type === 'network') ns.path = '/run/netns/' + pfx + '-node' + i;
fs.writeFileSync(p, JSON.stringify(c, null, 2));
JS
  runc --root "$rr" run -d --bundle "$b" "$name" >/dev/null 2>/dev/null </dev/null || { echo "runc run $name failed" >&2; exit 1; }
}

# (Re)start NODE's sshd (after a fault test killed it).
sshd_start() {
  local n=$1 i=${1#node}
  nsenter --net=/run/netns/${PFX}-node$i /usr/sbin/sshd -f "$STATE/nodes/$n/sshd_config" -E "$STATE/nodes/$n/sshd.log"
  for _ in $(seq 1 50); do (exec 3<>/dev/tcp/$NET.$((BASE + i))/22) 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

case "$CMD" in
  sshd) sshd_start "${3:?node}" ;;
  up) up "${3:-3}" ;;
  down) down ;;
  shape) shape "${3:?rate}" ;;
  counter) counter "${3:?node}" "${4:?name}" "${5:-0}" ;;
  *) echo "unknown command $CMD" >&2; exit 2 ;;
esac
