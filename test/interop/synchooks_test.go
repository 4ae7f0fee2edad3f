package interop

import (
	"fmt"
	"regexp"
	"syscall"
	"testing"
	"time"

	"govrrp/internal/lab"
	"govrrp/internal/testenv"
)

// A sync group's hooks get the same calls from govrrpd as from keepalived
// 2.2.7, each run alone on the same node with two instances in one
// vrrp_sync_group: once per group state (BACKUP at start, MASTER, STOP on
// SIGTERM), notify_<state> unchanged, the generic notify with GROUP NAME
// STATE 0.
func TestKeepalivedGroupHooksMatch(t *testing.T) {
	testenv.RequireTool(t, "keepalived")
	l := NewLab(t, 1)
	run := func(name, conf string, argv []string) string {
		t.Helper()
		var out string
		p, logPath := runAlone(t, l, name, func(dir string) string {
			var hook string
			hook, out = writeHook(t, dir)
			return fmt.Sprintf(conf, dir, hook)
		}, argv...)
		master := func() bool { return regexp.MustCompile(`(?m)^generic GROUP FW MASTER`).MatchString(lab.ReadFile(out)) }
		if !lab.Poll(10*time.Second, 10*time.Millisecond, master) {
			t.Fatalf("%s: group not Master:\n%s\n%s", name, lab.ReadFile(out), lab.Tail(lab.ReadFile(logPath), 20))
		}
		p.Stop(t, syscall.SIGTERM)
		return lab.ReadFile(out)
	}
	ka := run("keepalived", `global_defs {
  vrrp_version 3
  script_user root
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 0.1
  virtual_ipaddress { 10.77.0.251/24 }
}
vrrp_instance VI_2 {
  interface eth0
  virtual_router_id 52
  priority 100
  advert_int 0.1
  virtual_ipaddress { 10.77.0.252/24 }
}
vrrp_sync_group FW {
  group { VI_1 VI_2 }
  notify_master "%[2]s master"
  notify_backup "%[2]s backup"
  notify_fault "%[2]s fault"
  notify_stop "%[2]s stop"
  notify "%[2]s generic"
}
`, []string{"keepalived", "-n", "-l", "-P", "-f", "DIR/conf", "-p", "DIR/k.pid", "-r", "DIR/v.pid"})
	gv := run("govrrp", `control_socket: %[1]s/sock
routers:
  - {name: VI_1, interface: eth0, vrid: 51, advert_interval: 100ms, addresses: [10.77.0.251/24]}
  - {name: VI_2, interface: eth0, vrid: 52, advert_interval: 100ms, addresses: [10.77.0.252/24]}
sync_groups:
  FW:
    routers: [VI_1, VI_2]
    notify_master: [[%[2]s, master]]
    notify_backup: [[%[2]s, backup]]
    notify_fault: [[%[2]s, fault]]
    notify_stop: [[%[2]s, stop]]
    notify_keepalived: [[%[2]s, generic]]
`, []string{GovrrpdBin, "-c", "DIR/conf"})
	ka, gv = byState(ka), byState(gv)
	t.Logf("keepalived:\n%s", ka)
	if gv != ka {
		t.Errorf("govrrpd's calls:\n%s\nkeepalived's:\n%s", gv, ka)
	}
}
