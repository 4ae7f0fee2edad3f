#!/usr/bin/env bash
# make demo: the live lab (cmd/govrrp-lab). Three routers running govrrpd and
# a host in network namespaces; it narrates the election, a cable pull with
# the measured outage, preemption and a graceful stop, and removes everything
# at the end (also on Ctrl-C). Needs root; without it, it says what to run.
#   make demo ARGS="--interval 50ms"   faster or slower adverts (10ms..1s)
#   make demo ARGS=--keep              leave the lab up to explore
#   make demo ARGS=--clean             remove a kept lab
set -euo pipefail
cd "$(dirname "$0")/.."
exec ./bin/govrrp-lab "$@"
