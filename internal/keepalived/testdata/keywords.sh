#!/bin/sh
# Writes keywords.txt: the keywords of keepalived.conf(5)'s VRRP sections,
# from the installed man page (keepalived 2.2.7 when it was made). Run from
# this directory: sh keywords.sh > keywords.txt. TestImportCorpusKeywords
# reads only keywords.txt, so it does not need the man page.
set -e
MANWIDTH=200 man 5 keepalived.conf 2>/dev/null | col -bx > "${TMPDIR:-/tmp}/keepalived.conf.5.txt"
man=${TMPDIR:-/tmp}/keepalived.conf.5.txt
# section FROM-HEADING TO-HEADING: the first word of the indented
# (example block) lines between two headings, less the example values of
# the instance's routes and the interface names of examples.
section() {
	awk -v a="$2" -v b="$3" 'index($0, a) == 1 {on = 1; next} index($0, b) == 1 {on = 0} on' "$man" |
		grep -E '^ {8,}[a-z][a-z0-9_]*( |$)' | awk '{print $1}' |
		grep -vxE "eth[0-9]+|be|blackhole|from|src|to|$1" | sort -u | sed "s/^/$1 /"
}
echo "# The keywords of keepalived.conf(5)'s VRRP sections, one \"SECTION KEYWORD\" a line."
echo "# Made by keywords.sh from $(dpkg-query -W -f='keepalived ${Version}' keepalived 2>/dev/null || echo 'the installed')'s man page;"
echo "# global_defs: all of them (each needs its own answer, VRRP or not);"
echo "# toplevel: the sections of the global and VRRP configuration."
echo "# TestImportCorpusKeywords checks that the import corpus uses each one."
section global_defs 'Global definitions' 'Linkbeat interfaces' > "${TMPDIR:-/tmp}/keywords.sections"
section track_group 'Static track groups' 'Static routes' >> "${TMPDIR:-/tmp}/keywords.sections"
section track_file 'Track files' 'VRRP track processes' >> "${TMPDIR:-/tmp}/keywords.sections"
section vrrp_track_process 'VRRP track processes' 'BFD CONFIGURATION' >> "${TMPDIR:-/tmp}/keywords.sections"
section bfd_instance 'BFD CONFIGURATION' 'VRRPD CONFIGURATION' >> "${TMPDIR:-/tmp}/keywords.sections"
section vrrp_script 'VRRP script(s)' 'VRRP synchronization group(s)' >> "${TMPDIR:-/tmp}/keywords.sections"
section vrrp_sync_group 'VRRP synchronization group(s)' 'VRRP gratuitous ARP' >> "${TMPDIR:-/tmp}/keywords.sections"
section garp_group 'VRRP gratuitous ARP' 'VRRP instance(s)' >> "${TMPDIR:-/tmp}/keywords.sections"
section vrrp_instance 'VRRP instance(s)' 'Interface up/down status' >> "${TMPDIR:-/tmp}/keywords.sections"
cat "${TMPDIR:-/tmp}/keywords.sections"
# The top-level sections: the first word of the example lines that open a
# block between GLOBAL CONFIGURATION and LVS CONFIGURATION, less the blocks
# inside a section (a keyword of the sections above that is not a section
# itself: track_file is both).
inner=${TMPDIR:-/tmp}/keywords.inner
awk '{print $2}' "${TMPDIR:-/tmp}/keywords.sections" | sort -u |
	grep -vxF -e global_defs -e track_group -e track_file -e vrrp_track_process -e bfd_instance \
		-e vrrp_script -e vrrp_sync_group -e garp_group -e vrrp_instance > "$inner"
awk 'index($0, "GLOBAL CONFIGURATION") == 1 {on = 1} index($0, "LVS CONFIGURATION") == 1 {on = 0} on' "$man" |
	grep -E '^ {7,}[a-z_]+( [^ ]+)? *[{]' | awk '{print $1}' | sort -u | grep -vxF -f "$inner" |
	sed 's/^/toplevel /'
