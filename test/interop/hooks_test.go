package interop

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"govrrp/internal/lab"
	"govrrp/internal/testenv"
)

// keepalived's notify scripts get the same calls from govrrpd as from
// keepalived 2.2.7, run alone on the same node with the same scripts and a
// track_file (issue 13): notify_backup at startup, notify_master, then, with
// the file written (3 × weight -10), notify_stop on SIGTERM; each
// notify_<state> unchanged and before the generic notify, which gets
// INSTANCE NAME STATE and the effective priority. keepalived starts a
// state's two scripts without waiting for the first (notify_exec forks),
// so their order is compared per state; govrrpd runs them one after the
// other, in keepalived's launch order.
func TestKeepalivedHooksMatch(t *testing.T) {
	testenv.RequireTool(t, "keepalived")
	l := NewLab(t, 1)
	ka := runHooks(t, l, "keepalived", hooksKeepalivedConf, []string{"keepalived", "-n", "-l", "-P", "-f", "DIR/conf", "-p", "DIR/k.pid", "-r", "DIR/v.pid"},
		regexp.MustCompile(`effective priority from 100 to 70`))
	gv := runHooks(t, l, "govrrp", `control_socket: %[1]s/sock
routers:
  - name: VI_1
    interface: eth0
    vrid: 51
    priority: 100
    advert_interval: 100ms
    addresses: [10.77.0.254/24]
    track: {files: [{path: %[2]s, weight: -10}]}
    notify_master: [[%[3]s, master]]
    notify_backup: [[%[3]s, backup]]
    notify_fault: [[%[3]s, fault]]
    notify_stop: [[%[3]s, stop]]
    notify_keepalived: [[%[3]s, generic]]
`, []string{GovrrpdBin, "-c", "DIR/conf"}, regexp.MustCompile(`tracked file changed`))
	ka, gv = byState(ka), byState(gv)
	want := hooksWant
	if ka != want {
		t.Errorf("keepalived's calls (the reference) changed:\n%s\nwant:\n%s", ka, want)
	}
	if gv != ka {
		t.Errorf("govrrpd's calls:\n%s\nkeepalived's:\n%s", gv, ka)
	}
}

// runHooks runs one daemon (argv, DIR standing for its directory) alone on
// l's router with conf (fmt arguments: directory, tracked file, hook), waits
// for Master, writes 3 into the tracked file, waits for changed in its log,
// stops it and returns the hook calls logged, one per line.
func runHooks(t *testing.T, l *Lab, name string, conf string, argv []string, changed *regexp.Regexp) string {
	t.Helper()
	var out, tf string
	p, logPath := runAlone(t, l, name, func(dir string) string {
		var hook string
		hook, out = writeHook(t, dir)
		tf = filepath.Join(dir, "weight")
		if err := os.WriteFile(tf, []byte("0\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf(conf, dir, tf, hook, hook, hook, hook, hook)
	}, argv...)
	master := func() bool {
		return regexp.MustCompile(`(?m)^generic INSTANCE VI_1 MASTER`).MatchString(lab.ReadFile(out))
	}
	if !lab.Poll(10*time.Second, 10*time.Millisecond, master) {
		t.Fatalf("%s: not Master:\n%s\n%s", name, lab.ReadFile(out), lab.Tail(lab.ReadFile(logPath), 20))
	}
	if err := os.WriteFile(tf, []byte("3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if !lab.Poll(10*time.Second, 10*time.Millisecond, func() bool { return changed.MatchString(lab.ReadFile(logPath)) }) {
		t.Fatalf("%s: the tracked file's change not seen:\n%s", name, lab.Tail(lab.ReadFile(logPath), 20))
	}
	p.Stop(t, syscall.SIGTERM)
	return lab.ReadFile(out)
}

// hooksKeepalivedConf is the keepalived side of the hook comparisons (fmt
// arguments as runHooks), and hooksWant the calls keepalived 2.2.7 makes
// with it, ordered by byState.
const hooksKeepalivedConf = `global_defs {
  vrrp_version 3
  script_user root
}
vrrp_track_file tf {
  file %[2]s
  weight -10
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 0.1
  virtual_ipaddress { 10.77.0.254/24 }
  track_file { tf }
  notify_master "%[3]s master"
  notify_backup "%[3]s backup"
  notify_fault "%[3]s fault"
  notify_stop "%[3]s stop"
  notify "%[3]s generic"
}
`

const hooksWant = "backup\ngeneric INSTANCE VI_1 BACKUP 100\nmaster\ngeneric INSTANCE VI_1 MASTER 100\nstop\ngeneric INSTANCE VI_1 STOP 70\n"

// byState orders hook calls by the state they report (the order states were
// entered in: BACKUP, MASTER, STOP), notify_<state> before the generic
// notify within one state, as keepalived starts them.
func byState(log string) string {
	rank := map[string]int{"backup": 0, "BACKUP": 0, "master": 1, "MASTER": 1, "fault": 2, "FAULT": 2, "stop": 3, "STOP": 3}
	lines := strings.Split(strings.TrimSuffix(log, "\n"), "\n")
	key := func(l string) int {
		for _, f := range strings.Fields(l) {
			if r, ok := rank[f]; ok {
				return r
			}
		}
		return 9
	}
	generic := func(l string) int { return strings.Count(l, "generic") }
	slices.SortStableFunc(lines, func(a, b string) int { return cmp.Or(cmp.Compare(key(a), key(b)), cmp.Compare(generic(a), generic(b))) })
	return strings.Join(lines, "\n") + "\n"
}

// runAlone starts argv alone on l's router, DIR in it standing for the
// run's directory (l.Dir/name), after writing DIR/conf with what conf
// returns for that directory; the daemon logs to DIR/daemon.log.
func runAlone(t *testing.T, l *Lab, name string, conf func(dir string) string, argv ...string) (*lab.Proc, string) {
	t.Helper()
	dir := filepath.Join(l.Dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "conf"), []byte(conf(dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := range argv {
		argv[i] = strings.ReplaceAll(argv[i], "DIR", dir)
	}
	logPath := filepath.Join(dir, "daemon.log")
	return lab.StartProc(t, l.Routers[0], name, logPath, argv...), logPath
}

// writeHook writes into dir a hook script that appends its arguments, one
// call a line, to the file out.
func writeHook(t *testing.T, dir string) (hook, out string) {
	t.Helper()
	hook, out = filepath.Join(dir, "hook"), filepath.Join(dir, "hook.log")
	if err := os.WriteFile(hook, []byte("#!/bin/sh\necho \"$*\" >> "+out+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return hook, out
}
