package e2e

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// keepalived's notify scripts run unchanged (issue 13): notify_backup at
// startup, notify_master on becoming Master, notify_stop when the daemon
// stops, each with no arguments added and before notify_keepalived, which
// gets INSTANCE NAME STATE PRIORITY; our own notify still runs, last.
func TestKeepalivedNotifyHooks(t *testing.T) {
	b := hookCalls(t, `echo "$*"`, func(hook string) string {
		return "    notify_master: [[" + hook + ", master]]\n    notify_backup: [[" + hook + ", backup]]\n" +
			"    notify_fault: [[" + hook + ", fault]]\n    notify_stop: [[" + hook + ", stop]]\n" +
			"    notify_keepalived: [[" + hook + ", generic]]\n    notify: [[" + hook + ", ours]]\n"
	})
	want := "backup\ngeneric INSTANCE gw BACKUP 150\nours gw Initialize Backup startup\n" +
		"master\ngeneric INSTANCE gw MASTER 150\nours gw Backup Master master-no-response\n" +
		"stop\ngeneric INSTANCE gw STOP 150\nours gw Master Initialize shutdown\n"
	if b != want {
		t.Fatalf("hook calls:\n%s\nwant:\n%s", b, want)
	}
}

// A maintenance drain with keepalived's track_file (issue 13): writing a
// value to the tracked file lowers the Master's priority by value*weight
// and the Backup takes over; writing 0 gives it back (preemption); with
// weight 0 any other value is a Fault.
func TestTrackFileDrain(t *testing.T) {
	l := newLab(t, 2)
	r1, r2 := l.Nodes[0], l.Nodes[1]
	dir := t.TempDir()
	drain := filepath.Join(dir, "drain")
	down := filepath.Join(dir, "down")
	track := "    track: {files: [{path: " + drain + ", weight: -50}, {path: " + down + ", weight: 0}]}\n"
	p1, p2 := startTracked(t, r1, r2, track, "")

	os.WriteFile(drain, []byte("1\n"), 0o644) // 150 - 50 = 100 < 120
	p2.waitState("gw", "Master", 5*time.Second)
	if d := p1.waitState("gw", "Backup", 5*time.Second); d.EffectivePriority != 100 {
		t.Fatalf("effective priority %d while drained, want 150-50=100", d.EffectivePriority)
	}
	os.WriteFile(drain, []byte("0\n"), 0o644)
	p1.waitState("gw", "Master", 5*time.Second)

	os.WriteFile(down, []byte("1"), 0o644)
	p1.waitState("gw", "Fault", 5*time.Second)
	p2.waitState("gw", "Master", 5*time.Second)
	os.Remove(down) // missing is 0: the fault clears
	p1.waitState("gw", "Master", 5*time.Second)
}
