#!/bin/bash
# PID 1 of a field-host guest after switch_root (tests/hosts/init): runs the
# scenario named by cab.scenario= (tests/hosts/scenarios/NAME.sh) from the
# checkout, as root, with CAB_BUILD from cab.build=; then writes its exit
# status to /run/cab-hosts/status, prints "CAB-HOSTS-STATUS N" on the
# console and powers the guest off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LC_ALL=C TERM=dumb
out=/run/cab-hosts
here=$(cd "$(dirname "$0")" && pwd)

scenario=
for word in $(cat /proc/cmdline); do
  case $word in
  cab.scenario=*) scenario=${word#cab.scenario=} ;;
  cab.build=*) export CAB_BUILD=${word#cab.build=} ;;
  esac
done

hostname cab-guest
ip link set lo up
# A host has an address and a default route (net_model aims its control
# datagram at the host's own address); a dummy eth0 gives the guest both
# without any network.
ip link add eth0 type dummy && ip addr add 10.0.2.15/24 dev eth0 && ip link set eth0 up &&
  ip route add default via 10.0.2.2
echo "cab-hosts: guest kernel $(uname -r), cgroup.controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
rc=125
# A name with a slash is a script relative to the checkout (run.sh).
case $scenario in
*/*) script=$here/../../$scenario ;;
*) script=$here/scenarios/$scenario.sh ;;
esac
if [ -f "$script" ]; then
  # A child, not exec: PID 1 must survive to report and power off; bash as
  # PID 1 reaps the orphans the scenario leaves.
  cd "$here/../.." && bash "$script"
  rc=$?
else
  echo "cab-hosts: no scenario '$scenario' ($script)"
fi
echo "$rc" >"$out/status"
sync
echo "CAB-HOSTS-STATUS $rc"
# No systemd here: busybox's poweroff, or the kernel's.
/bin/busybox poweroff -f 2>/dev/null
echo o >/proc/sysrq-trigger
sleep 10
