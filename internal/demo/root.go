package demo

import (
	"fmt"
	"strings"
)

// NeedRoot explains, to someone who ran the lab without root, why it needs
// root and what to run instead; args are the lab's own arguments, carried
// into the suggested command.
func NeedRoot(args []string) string {
	cmd, mk := "sudo bin/govrrp-lab", "sudo make demo"
	if len(args) > 0 {
		a := strings.Join(args, " ")
		cmd += " " + a
		mk += fmt.Sprintf(" ARGS=%q", a)
	}
	return fmt.Sprintf(`make demo needs root: it builds a small LAN out of network namespaces, veths
and a bridge (CAP_SYS_ADMIN, CAP_NET_ADMIN), and govrrpd and the host's ping use
raw sockets (CAP_NET_RAW). Everything stays inside namespaces it creates and
removes; nothing on this machine's own interfaces, routes or sysctls changes.

Run it as root (the binaries are already built):

    %s        (or: %s)

Without privileges, bin/govrrp simulate runs the same scenario in the
deterministic simulator.
`, cmd, mk)
}
