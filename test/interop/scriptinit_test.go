package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"govrrp/internal/keepalived"
	"govrrp/internal/lab"
	"govrrp/internal/testenv"
)

// scriptInitConf tracks a script whose every run takes 1.5 s, with rise 3
// and no init_fail: with weight 0 (VRID 81) and with weight -10 (VRID 82).
// %[1]s is the script.
const scriptInitConf = `global_defs {
    vrrp_version 3
    enable_script_security
    script_user root
}
vrrp_script chk {
    script %[1]s
    interval 2
    rise 3
}
vrrp_script chkw {
    script %[1]s
    interval 2
    rise 3
    weight -10
}
vrrp_instance held {
    interface eth0
    virtual_router_id 81
    priority 100
    advert_int 0.1
    virtual_ipaddress {
        10.77.0.181/24
    }
    track_script {
        chk
    }
}
vrrp_instance weighted {
    interface eth0
    virtual_router_id 82
    priority 100
    advert_int 0.1
    virtual_ipaddress {
        10.77.0.182/24
    }
    track_script {
        chkw
    }
}
`

// TestImportedScriptStartMatchesKeepalived: keepalived 2.2.7 alone on a
// node, then govrrpd alone with the import (init: unknown), each starting
// with a script whose first result comes after 1.5 s. Both behave as
// keepalived's INIT state: the weight-0 router sends nothing until that
// result, and the first success makes it run at once despite rise 3; the
// weighted router runs meanwhile at its configured priority, 100, not 90.
// (govrrpd's default start, init: failed, would hold the first in Fault
// for three successes and advertise 90.)
func TestImportedScriptStartMatchesKeepalived(t *testing.T) {
	testenv.RequireTool(t, "keepalived")
	l := NewLab(t, 1)
	nd := l.Routers[0]
	script := filepath.Join(l.Dir, "slow-check")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nsleep 1.5\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(scriptInitConf, script)
	run := func(name, conf string, argv ...string) {
		t.Helper()
		c := StartCapture(t, nd, "eth0", filepath.Join(l.Dir, name+".pcap"), "proto 112")
		start := time.Now()
		p, logPath := runAlone(t, l, name, func(string) string { return conf }, argv...)
		var as Adverts
		lab.Poll(5*time.Second, 50*time.Millisecond, func() bool {
			as, _ = c.Adverts()
			return len(as.Filter(func(a Advert) bool { return a.VRID == 81 })) > 3
		})
		p.Stop(t, syscall.SIGTERM)
		c.Stop()
		as, _ = c.Adverts()
		held := as.Filter(func(a Advert) bool { return a.VRID == 81 && a.Priority != 0 })
		weighted := as.Filter(func(a Advert) bool { return a.VRID == 82 && a.Priority != 0 })
		switch {
		case len(held) == 0:
			t.Errorf("%s: the weight-0 router never sent (held for rise 3?)\n%s", name, lab.Tail(lab.ReadFile(logPath), 20))
		case held[0].Time.Sub(start) < 1400*time.Millisecond:
			t.Errorf("%s: the weight-0 router sent %v after the start, before the script's first result", name, held[0].Time.Sub(start))
		case held[0].Time.Sub(start) > 3500*time.Millisecond:
			t.Errorf("%s: the weight-0 router first sent %v after the start: it waited for more than the first result", name, held[0].Time.Sub(start))
		}
		early := weighted.Between(start, start.Add(1400*time.Millisecond))
		if len(early) == 0 {
			t.Errorf("%s: the weighted router sent nothing before the script's first result", name)
		}
		for _, a := range weighted {
			if a.Priority != 100 {
				t.Errorf("%s: the weighted router advertised %d at %v, want 100\n%s", name, a.Priority, a.Time.Sub(start), weighted.Tail(5))
				break
			}
		}
		if len(held) > 0 && len(weighted) > 0 {
			t.Logf("%s: weight-0 router's first advert %v after the start, weighted's %v", name, held[0].Time.Sub(start).Round(time.Millisecond), weighted[0].Time.Sub(start).Round(time.Millisecond))
		}
	}
	run("keepalived", conf, "keepalived", "-n", "-l", "-f", "DIR/conf", "-p", "DIR/k.pid", "-r", "DIR/v.pid")

	src := filepath.Join(l.Dir, "scriptinit-keepalived.conf")
	if err := os.WriteFile(src, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := keepalived.Import(src, keepalived.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome() != keepalived.Complete || strings.Count(string(res.YAML), "init: unknown") != 2 {
		t.Fatalf("import: %v\n%s", res.Notes, res.YAML)
	}
	run("govrrp", "control_socket: "+filepath.Join(l.Dir, "govrrp", "sock")+"\n"+string(res.YAML), GovrrpdBin, "-c", "DIR/conf")
}
