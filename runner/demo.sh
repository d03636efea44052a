#!/bin/sh
# The main job until cells exist: one real `cab exec` on a busybox rootfs,
# with limits, printing what the sandbox looks like from inside and the
# result record.
set -eu
build=${CAB_BUILD:-build}
root="$build/demo-rootfs"
rootfs/busybox-rootfs.sh "$root"
echo "== cab doctor"
"$build/cab" doctor || true
echo "== cab exec --rootfs $root (memory 256M, pids 128, cpus 1, timeout 30s)"
"$build/cab" exec --rootfs "$root" --memory 256M --pids 128 --cpus 1 --timeout 30 \
  --result "$build/demo-result.json" -- /bin/sh -c '
    echo "inside: $(id), hostname $(hostname)"
    echo "processes:"; ps -o pid,user,args
    echo "interfaces: $(ls /sys/class/net 2>/dev/null | tr "\n" " ")"
    grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status
    if echo x > /etc/probe 2>/dev/null; then echo "rootfs: WRITABLE"; else echo "rootfs: read-only"; fi
    echo "tmp: $(df -h /tmp | tail -1)"'
echo "== result ($build/demo-result.json)"
cat "$build/demo-result.json"
