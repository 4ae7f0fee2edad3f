#!/bin/sh
# Prints the version of the working tree from git tags, for the Makefile:
#   VERSION  0.2.0 at tag v0.2.0; 0.2.0+3.gabc1234 three commits after it;
#            0.0.0+N.gHASH before any tag (N commits); a tree with
#            uncommitted changes gets ".dirty" (or "+dirty") appended.
#            Always a valid Debian version that sorts after the tag's.
#   COMMIT   the full commit hash
#   DATE     SOURCE_DATE_EPOCH, else the commit's time, as RFC 3339 UTC
# Usage: version.sh [version|commit|date]
set -eu
what=${1:-version}
case $what in
version)
	if d=$(git describe --tags --long --abbrev=7 --match 'v[0-9]*' 2>/dev/null); then
		hash=${d##*-g}
		rest=${d%-g*}
		n=${rest##*-}
		tag=${rest%-*}
		v=${tag#v}
	else
		hash=$(git rev-parse --short=7 HEAD 2>/dev/null) || { echo 0.0.0+unknown; exit 0; }
		n=$(git rev-list --count HEAD)
		v=0.0.0
	fi
	[ "$n" != 0 ] && v="$v+$n.g$hash"
	if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
		case $v in *+*) v="$v.dirty" ;; *) v="$v+dirty" ;; esac
	fi
	echo "$v"
	;;
commit) git rev-parse HEAD 2>/dev/null || echo unknown ;;
date)
	t=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
	date -u -d "@$t" +%Y-%m-%dT%H:%M:%SZ
	;;
*) echo "usage: $0 [version|commit|date]" >&2; exit 2 ;;
esac
