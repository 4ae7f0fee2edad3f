package keepalived

import (
	"strings"

	"govrrp/internal/config"
)

// isLVSGlobal reports whether a global_defs keyword belongs to keepalived's
// LVS or checker part (keepalived.conf(5)'s global definitions).
func isLVSGlobal(k string) bool {
	switch k {
	case "enable_snmp_checker", "smtp_alert_checker", "no_checker_emails", "rs_init_notifies":
		return true
	}
	return strings.HasPrefix(k, "lvs_") || strings.HasPrefix(k, "checker_") || strings.HasPrefix(k, "nftables_ipvs")
}

// isSNMPGlobal reports whether a global_defs keyword is one of the SNMP
// settings of the VRRP process.
func isSNMPGlobal(k string) bool {
	switch k {
	case "enable_snmp_rfc", "enable_snmp_rfcv2", "enable_snmp_rfcv3", "enable_snmp_vrrp", "enable_snmp_keepalived",
		"enable_traps", "snmp_socket":
		return true
	}
	return false
}

// defaultAgentX is net-snmp's AgentX socket, keepalived's default too.
const defaultAgentX = "/var/agentx/master"

// snmpGlobal records an SNMP setting; snmp decides once every global_defs
// is read, since keepalived takes them from all of them.
func (t *translator) snmpGlobal(c *Node) {
	switch c.Key {
	case "enable_snmp_rfc", "enable_snmp_rfcv2", "enable_snmp_rfcv3":
		t.g.snmpRFC = append(t.g.snmpRFC, c)
	case "enable_snmp_vrrp", "enable_snmp_keepalived":
		t.g.snmpKA = append(t.g.snmpKA, c)
	case "snmp_socket":
		t.g.snmpSocket = c
	case "enable_traps":
		t.note(c, "govrrpd sends its VRRP notifications (vrrpv3NewMaster, vrrpTrapNewMaster, vrrpv3ProtoError, vrrpTrapAuthFailure) to snmpd whenever snmp_agentx is set; snmpd forwards them to its trap2sink/informsink", "", false)
	}
}

// snmp translates the RFC MIBs (keepalived's enable_snmp_rfc*) to govrrpd's
// AgentX subagent, which serves both VRRPv3-MIB and VRRP-MIB, on
// snmp_socket or net-snmp's default socket. KEEPALIVED-MIB has no
// equivalent.
func (t *translator) snmp() {
	for _, c := range t.g.snmpKA {
		t.note(c, "KEEPALIVED-MIB is not served by govrrpd, only the standard VRRPv3-MIB (RFC 6527) and VRRP-MIB (RFC 2787)",
			"poll those instead (enable_snmp_rfc becomes snmp_agentx; docs/MONITORING.md maps them)", true)
	}
	sock := defaultAgentX
	if c := t.g.snmpSocket; c != nil {
		switch {
		case len(c.Args) != 1:
			t.note(c, "write snmp_socket SOCKET", "net-snmp's default "+defaultAgentX+" is used", true)
		case len(t.g.snmpRFC) == 0:
			if len(t.g.snmpKA) == 0 {
				t.note(c, "no SNMP MIB is enabled: ignored, as keepalived does", "", false)
			} else {
				t.note(c, "only KEEPALIVED-MIB used it: not translated", "", false)
			}
		case config.CheckAgentX(c.Args[0]) != nil:
			t.note(c, c.Args[0]+": govrrpd dials AgentX on a unix socket or tcp:IP:PORT only", "make snmpd's agentXSocket one of those and write it as snmp_agentx", true)
			return
		default:
			sock = c.Args[0]
			t.note(c, "snmp_agentx: "+sock, "", false)
		}
	}
	if len(t.g.snmpRFC) == 0 {
		return
	}
	t.g.agentx = sock
	for _, c := range t.g.snmpRFC {
		why := "snmp_agentx: " + sock + ": govrrpd serves VRRPv3-MIB (RFC 6527) and VRRP-MIB (RFC 2787) read-only"
		if c.Key != "enable_snmp_rfc" {
			why += ", both, not only the one this asks for"
		}
		t.note(c, why, "", false)
	}
}
