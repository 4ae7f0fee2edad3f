#!/usr/bin/env bash
# The network-namespace lab demo is coming (issue 7). Until then, `make demo`
# shows what exists: the decoder reading real keepalived and FRR traffic.
set -euo pipefail
cd "$(dirname "$0")/.."
cat <<'MSG'
make demo: the live lab (three govrrpd routers in network namespaces, failover
and preemption narrated) is coming; the daemon is not built yet.

What works today is the VRRP codec. Here it decodes and validates real
keepalived VRRPv3 traffic (testdata/captures/keepalived-v3-ipv4.pcap):

MSG
out=$(./bin/govrrp decode --summary vrrp/testdata/captures/keepalived-v3-ipv4.pcap)
sed -n 1,12p <<<"$out"
MSG2='
Every capture in vrrp/testdata/captures decodes the same way: ./bin/govrrp decode --summary FILE'
echo "$MSG2"
