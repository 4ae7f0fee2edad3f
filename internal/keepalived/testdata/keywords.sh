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
		grep -vxE 'eth[0-9]+|be|blackhole|from|src|to' | sort -u | sed "s/^/$1 /"
}
echo "# The keywords of keepalived.conf(5)'s VRRP sections, one \"SECTION KEYWORD\" a line."
echo "# Made by keywords.sh from $(dpkg-query -W -f='keepalived ${Version}' keepalived 2>/dev/null || echo 'the installed')'s man page;"
echo "# global_defs: the vrrp_ keywords and the others the VRRP daemon reads."
echo "# TestImportCorpusKeywords checks that the import corpus uses each one."
section global_defs 'Global definitions' 'Linkbeat interfaces' |
	grep -E ' (vrrp_.*|script_user|enable_script_security|router_id|max_auto_priority|min_auto_priority_delay|notify_fifo|notify_fifo_script|fifo_write_vrrp_states_on_reload|vmac_prefix|vmac_addr_prefix|log_unknown_vrids|dynamic_interfaces|default_interface|disable_local_igmp|smtp_alert_vrrp)$'
section track_file 'Track files' 'VRRP track processes'
section vrrp_script 'VRRP script(s)' 'VRRP synchronization group(s)'
section vrrp_sync_group 'VRRP synchronization group(s)' 'VRRP gratuitous ARP'
section vrrp_instance 'VRRP instance(s)' 'Interface up/down status'
