package interop

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"govrrp/internal/config"
	"govrrp/internal/keepalived"
	"govrrp/internal/lab"
	"govrrp/internal/testenv"
)

// TestImportedKeepalivedPair: keepalived runs its own keepalived.conf on one
// router; govrrpd runs `govrrp import keepalived` of the same file, with
// that router's priorities, on the other (VRRPv3, 100 ms adverts, garp
// settings and accept carried over by the importer). Two VRIDs, one master
// each; no complaint in either log; when either side stops, the other takes
// both.
func TestImportedKeepalivedPair(t *testing.T) {
	l := NewLab(t, 2)
	vr := func(id uint8, prio uint8, vip string) VR {
		return VR{VRID: id, Version: 3, Family: IPv4, Priority: prio, Interval: interval,
			VIPs: []netip.Prefix{netip.MustParsePrefix(vip)}}
	}
	a, b := VRKey{51, IPv4}, VRKey{52, IPv4}
	ka := NewKeepalived(t, l.Routers[0], l.Dir, vr(51, 150, "10.77.0.251/24"), vr(52, 100, "10.77.0.252/24"))
	// The same file for the other router: only the priorities differ.
	other := NewKeepalived(t, l.Routers[1], l.Dir, vr(51, 100, "10.77.0.251/24"), vr(52, 150, "10.77.0.252/24"))
	src := filepath.Join(l.Dir, "other-keepalived.conf")
	if err := os.WriteFile(src, []byte(other.Config()), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := keepalived.Import(src, keepalived.Options{})
	if err != nil || res.Routers != 2 {
		t.Fatalf("import: %v, %d routers", err, res.Routers)
	}
	for _, n := range res.Notes {
		t.Logf("import note: %s", n)
	}
	gv := NewGovrrp(t, l.Routers[1], l.Dir, vr(51, 100, "10.77.0.251/24"), vr(52, 150, "10.77.0.252/24"))
	gv.UseImported(string(res.YAML))

	l.Start(t, ka)
	l.Start(t, gv)
	l.WaitMaster(t, ka, a, converge)
	l.WaitMaster(t, gv, b, converge)
	checkClean(t, l, cleanOpts{})

	// keepalived stops: govrrpd takes both.
	ka.Stop(t)
	l.WaitMaster(t, gv, a, takeover, ka)
	l.WaitMaster(t, gv, b, takeover, ka)

	// Back to one master each, then govrrpd stops: keepalived takes both.
	ka.Start(t)
	l.WaitMaster(t, ka, a, converge)
	l.WaitMaster(t, gv, b, converge)
	gv.Stop(t)
	l.WaitMaster(t, ka, a, takeover, gv)
	l.WaitMaster(t, ka, b, takeover, gv)
	checkClean(t, l, cleanOpts{})
}

// importOracle is a keepalived.conf whose instances lean on keepalived
// 2.2.7's defaults and quiet rewrites: VRRPv2 by default, state MASTER
// without a priority (255, written as 254; nopreempt cleared), advert_int rounding in
// both versions, accept by default, other-family addresses dropped, garp
// globals and per-instance overrides, strict_mode, IPv6 (always VRRPv3).
const importOracle = `global_defs {
    vrrp_garp_master_delay 3
    vrrp_garp_master_repeat 4
}
vrrp_instance owner {
    state MASTER
    interface eth0
    virtual_router_id 61
    nopreempt
    advert_int 1.6
    virtual_ipaddress {
        10.77.0.161/24
        fd77::161/64
    }
}
vrrp_instance slow {
    interface eth0
    virtual_router_id 62
    advert_int 0.4
    priority 90
    preempt_delay 2.5
    virtual_ipaddress {
        10.77.0.162
    }
}
vrrp_instance fast {
    interface eth0
    virtual_router_id 63
    version 3
    advert_int 0.123
    nopreempt
    no_accept
    garp_master_repeat 2
    garp_master_refresh 30
    garp_master_refresh_repeat 2
    virtual_ipaddress {
        10.77.0.163/24
    }
}
vrrp_instance strict {
    interface eth0
    virtual_router_id 64
    strict_mode on
    preempt_delay 3
    accept
    priority 120
    garp_master_refresh 10
    garp_master_refresh_repeat 3
    authentication {
        auth_type PASS
        auth_pass secret
    }
    virtual_ipaddress {
        10.77.0.164/24
    }
}
vrrp_instance six {
    interface eth0
    virtual_router_id 66
    advert_int 0.25
    virtual_ipaddress {
        fe80::66
        fd77::166/64
        10.77.0.166
    }
}
vrrp_instance strict_v3 {
    interface eth0
    virtual_router_id 65
    version 3
    strict_mode
    virtual_ipaddress {
        10.77.0.165/24
    }
}
`

// TestImportMatchesKeepalived holds the importer's defaults to keepalived's
// own reading of the same file: keepalived -d dumps, per instance, the
// version, priority, advert interval, accept, preempt (and delay), garp
// settings and virtual addresses it runs with; the import must say the same.
func TestImportMatchesKeepalived(t *testing.T) {
	l := NewLab(t, 1)
	testenv.RequireTool(t, "keepalived")
	dir := filepath.Join(l.Dir, "oracle")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "keepalived.conf")
	if err := os.WriteFile(conf, []byte(importOracle), 0o644); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(dir, "keepalived.log")
	p := lab.StartProc(t, l.Routers[0], "oracle/keepalived", log, "keepalived", "-n", "-l", "-D", "-d", "-P",
		"-f", conf, "-p", filepath.Join(dir, "k.pid"), "-r", filepath.Join(dir, "v.pid"))
	if !lab.Poll(10*time.Second, 10*time.Millisecond, func() bool { return strings.Contains(lab.ReadFile(log), "< Interfaces >") }) {
		t.Fatalf("keepalived dumped no configuration:\n%s", lab.Tail(lab.ReadFile(log), 30))
	}
	p.Stop(t, syscall.SIGTERM)
	dump := keepalivedDump(lab.ReadFile(log))

	res, err := keepalived.Import(conf, keepalived.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.Parse("imported.yaml", res.YAML)
	if err != nil {
		t.Fatalf("%v\n%s", err, res.YAML)
	}
	if len(c.Routers) != len(dump) {
		t.Fatalf("%d routers imported, keepalived runs %d instances", len(c.Routers), len(dump))
	}
	for _, r := range c.Routers {
		ka := dump[r.Name]
		if ka == nil {
			t.Errorf("%s: not in keepalived's dump", r.Name)
			continue
		}
		preempt := "enabled"
		if !r.Preempt {
			preempt = "disabled"
		}
		accept := "enabled"
		if !r.Accept {
			accept = "disabled"
		}
		prio := fmt.Sprint(r.Priority)
		if r.Name == "owner" && r.Priority == 254 {
			// state MASTER without a priority: keepalived's 255 without
			// owning the addresses is written as 254 (docs/MIGRATING.md).
			prio = "255"
		}
		for _, f := range []struct{ key, ours string }{
			{"VRRP Version", fmt.Sprint(r.Version)},
			{"Priority", prio},
			{"Advert interval", kaInterval(r.Version, r.AdvertInterval)},
			{"Accept", accept},
			{"Preempt", preempt},
			{"Preempt delay", kaDelay(r.PreemptDelay)},
			{"Gratuitous ARP delay", fmt.Sprint(int(r.Announce.Delay.Seconds()))},
			{"Gratuitous ARP repeat", fmt.Sprint(r.Announce.Repeat)},
			{"Gratuitous ARP refresh", fmt.Sprint(int(r.Announce.Refresh.Seconds()))},
			{"Virtual IP", fmt.Sprintf("(%d):", len(r.Addresses))},
		} {
			if got := ka[f.key]; got != f.ours {
				t.Errorf("%s: %s: keepalived %q, import %q", r.Name, f.key, got, f.ours)
			}
		}
	}
}

// keepalivedDump reads keepalived -d's "VRRP Instance = NAME" sections into
// name -> field -> value ("Priority" -> "255").
func keepalivedDump(log string) map[string]map[string]string {
	out := map[string]map[string]string{}
	var cur map[string]string
	for _, line := range strings.Split(log, "\n") {
		if _, rest, ok := strings.Cut(line, ": "); ok {
			line = rest // the timestamp keepalived -l puts before each line
		}
		s := strings.TrimSpace(line)
		if name, ok := strings.CutPrefix(s, "VRRP Instance = "); ok {
			cur = map[string]string{}
			out[name] = cur
			continue
		}
		if strings.HasPrefix(s, "------<") {
			cur = nil
		}
		if cur == nil {
			continue
		}
		if k, v, ok := strings.Cut(s, " = "); ok {
			if _, seen := cur[k]; !seen {
				cur[k] = v
			}
		} else if v, ok := strings.CutPrefix(s, "Virtual IP "); ok {
			cur["Virtual IP"] = v
		}
	}
	return out
}

// kaInterval writes d as keepalived -d does: "2 sec" for VRRPv2,
// "120 milli-sec" for VRRPv3.
func kaInterval(version uint8, d time.Duration) string {
	if version == 2 {
		return fmt.Sprintf("%d sec", int(d.Seconds()))
	}
	return fmt.Sprintf("%d milli-sec", d.Milliseconds())
}

// kaDelay writes a preempt delay as keepalived -d does; none when 0.
func kaDelay(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " secs"
}

// TestImportedKeepalivedHooks: the keepalived.conf of TestKeepalivedHooksMatch
// (notify_master/backup/fault/stop, the generic notify, a track_file), put
// through `govrrp import keepalived` and run by govrrpd with the scripts
// unchanged, makes the calls keepalived 2.2.7 makes: notify_<state> with
// their own arguments, notify with INSTANCE NAME STATE PRIORITY (issue 13).
func TestImportedKeepalivedHooks(t *testing.T) {
	l := NewLab(t, 1)
	// runHooks's paths for a run named "imported".
	dir := filepath.Join(l.Dir, "imported")
	tf, hook := filepath.Join(dir, "weight"), filepath.Join(dir, "hook")
	src := filepath.Join(l.Dir, "hooks-keepalived.conf")
	if err := os.WriteFile(src, []byte(fmt.Sprintf(hooksKeepalivedConf, dir, tf, hook)), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := keepalived.Import(src, keepalived.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range res.Notes {
		t.Logf("import note: %s", n)
	}
	if res.Outcome() != keepalived.Complete {
		t.Fatalf("import left something out:\n%s", res.YAML)
	}
	conf := "control_socket: %[1]s/sock\n" + strings.ReplaceAll(string(res.YAML), "%", "%%")
	gv := byState(runHooks(t, l, "imported", conf, []string{GovrrpdBin, "-c", "DIR/conf"}, regexp.MustCompile(`tracked file changed`)))
	if gv != hooksWant {
		t.Errorf("govrrpd's calls with the imported configuration:\n%s\nkeepalived's:\n%s\nYAML:\n%s", gv, hooksWant, res.YAML)
	}
}

// installedOracle leans on what keepalived installs while Master besides
// its advertised addresses: a VIP with a label and one with a scope, an
// excluded address, virtual_routes (via, src, table, metric, blackhole,
// a default in another table) and virtual_rules (from, to, fwmark/mask,
// iif, priorities).
const installedOracle = `global_defs {
    vrrp_version 3
}
vrrp_instance VI_9 {
    interface eth0
    virtual_router_id 90
    priority 200
    advert_int 0.1
    virtual_ipaddress {
        10.77.0.201/24 label eth0:vip
        10.77.9.1/24 scope site
    }
    virtual_ipaddress_excluded {
        10.77.0.202/24
    }
    virtual_routes {
        10.77.20.0/24 via 10.77.0.1 metric 5
        src 10.77.0.201 to 10.77.21.0/24 via 10.77.0.1 table 100
        blackhole 10.77.22.0/24
        default via 10.77.0.1 table 101
    }
    virtual_rules {
        from 10.77.0.201/32 table 100 priority 100
        to 10.77.23.0/24 table 101 priority 101
        fwmark 0x10/0xff table 100 priority 102
        from 10.77.24.0/24 iif eth0 table 101 priority 103
    }
}
`

// installed lists, in node nd, the addresses, routes and rules of the
// oracle's ranges as ip(8) shows them, without the routing protocol (each
// daemon marks its own) nor an address's broadcast: govrrpd gives an IPv4
// VIP its subnet's, keepalived none without brd (the kernel answers the
// subnet broadcast through the interface's own address either way).
func installed(t *testing.T, nd *lab.Node) string {
	t.Helper()
	proto := regexp.MustCompile(` (proto|brd) \S+`)
	var out []string
	for _, cmd := range [][]string{
		{"-4", "-o", "addr", "show", "dev", "eth0"},
		{"-4", "route", "show", "table", "all"},
		{"-4", "rule", "show"},
	} {
		s, err := nd.IP(cmd...)
		if err != nil {
			t.Fatalf("ip %v: %v", cmd, err)
		}
		for _, line := range strings.Split(s, "\n") {
			line, _, _ = strings.Cut(line, `\`)
			switch {
			case strings.Contains(line, "10.77.0.20"), strings.Contains(line, "10.77.9."),
				strings.Contains(line, "10.77.2"), strings.Contains(line, "table 10"),
				strings.Contains(line, "lookup 10"):
				if strings.Contains(line, "dev eth0 proto kernel") || strings.Contains(line, "table local") {
					continue // the kernel's own routes for the addresses
				}
				out = append(out, strings.Join(strings.Fields(proto.ReplaceAllString(line, "")), " "))
			}
		}
	}
	return strings.Join(out, "\n")
}

// TestImportedKeepalivedInstallsTheSame: keepalived 2.2.7 alone on a node
// with installedOracle, then govrrpd alone on the same node with its import:
// while Master both install the same addresses (label, scope, excluded),
// routes and rules, and both remove them all when they stop (issue 13).
func TestImportedKeepalivedInstallsTheSame(t *testing.T) {
	testenv.RequireTool(t, "keepalived")
	l := NewLab(t, 1)
	nd := l.Routers[0]
	run := func(name string, conf string, argv ...string) string {
		t.Helper()
		p, logPath := runAlone(t, l, name, func(string) string { return conf }, argv...)
		// The last rule goes in last.
		var got string
		if !lab.Poll(10*time.Second, 20*time.Millisecond, func() bool {
			got = installed(t, nd)
			return strings.Contains(got, "103:")
		}) {
			t.Fatalf("%s: not all installed:\n%s\n%s", name, got, lab.Tail(lab.ReadFile(logPath), 20))
		}
		// Settled: the same twice in a row, 200 ms apart.
		for prev := ""; prev != got; {
			prev = got
			time.Sleep(200 * time.Millisecond)
			got = installed(t, nd)
		}
		p.Stop(t, syscall.SIGTERM)
		if left := installed(t, nd); left != "" {
			t.Errorf("%s left behind:\n%s", name, left)
		}
		return got
	}
	ka := run("keepalived", installedOracle, "keepalived", "-n", "-l", "-P", "-f", "DIR/conf", "-p", "DIR/k.pid", "-r", "DIR/v.pid")

	src := filepath.Join(l.Dir, "installed-keepalived.conf")
	if err := os.WriteFile(src, []byte(installedOracle), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := keepalived.Import(src, keepalived.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome() != keepalived.Complete {
		t.Fatalf("import left something out: %v\n%s", res.Notes, res.YAML)
	}
	gv := run("govrrp", "control_socket: "+filepath.Join(l.Dir, "govrrp", "sock")+"\n"+string(res.YAML), GovrrpdBin, "-c", "DIR/conf")
	if gv != ka {
		t.Errorf("govrrpd with the import installs:\n%s\nkeepalived:\n%s\nYAML:\n%s", gv, ka, res.YAML)
	}
}
