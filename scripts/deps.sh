#!/usr/bin/env bash
# Installs the Debian packages the tests need when they are missing.
# As root it installs them; otherwise it says what is missing. Under CI
# (CI=true) anything still missing is an error: CI never skips a test.
set -euo pipefail

# command -> Debian package
declare -A need=(
  [tshark]=tshark
  [tcpdump]=tcpdump
  [ip]=iproute2
  [keepalived]=keepalived
  [vtysh]=frr
  [ping]=iputils-ping
  [nft]=nftables
  [setpriv]=util-linux
  # make package and its checks: lintian (test/pkg), groff and zsh (the man
  # pages and completion, internal/clidoc and cmd/govrrp TestGeneratedWork)
  [lintian]=lintian
  [groff]=groff
  [zsh]=zsh
  # promtool checks dist/prometheus and dist/grafana (internal/metrics
  # TestAlertRules, TestDashboardQueries*); Debian ships it only in the
  # server's package. The tests use promtool alone: the server is not
  # started (see policy-rc.d below).
  [promtool]=prometheus
  # snmpd, snmptrapd and snmpwalk/snmpget: test/e2e TestSNMPAgentX (the
  # MIBs served over AgentX); the test runs its own snmpd.
  [snmpd]=snmpd
  [snmptrapd]=snmptrapd
  [snmpwalk]=snmp
)
# file -> Debian package, for programs that are not on PATH
declare -A need_file=(
  [/usr/lib/frr/zebra]=frr
  [/usr/lib/frr/vrrpd]=frr
)

declare -A missing_set=()
for cmd in "${!need[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing_set[${need[$cmd]}]=1
done
for f in "${!need_file[@]}"; do
  [ -x "$f" ] || missing_set[${need_file[$f]}]=1
done
missing=("${!missing_set[@]}")
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "deps: installing ${missing[*]}"
  # Several of these packages ship a service (keepalived, frr, prometheus,
  # snmpd, snmptrapd) that the install would start on the host. The tests
  # run their own copies in namespaces, so services are kept from
  # starting: a policy-rc.d that refuses every start, unless the box has
  # its own.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# govrrp scripts/deps.sh: no service starts during its install\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi

echo "deps: missing ${missing[*]} (run 'sudo make deps'); tests that need them will skip" >&2
if [ "${CI:-}" = "true" ]; then
  echo "deps: CI=true and packages are missing: failing" >&2
  exit 1
fi
