package notify

import "testing"

// govrrp disable takes a router out of service as a shutdown does:
// keepalived's notify_stop runs; passing through Initialize otherwise runs
// no keepalived hook.
func TestKeepalivedStateStop(t *testing.T) {
	for _, c := range []struct{ to, reason, want string }{
		{"Initialize", "shutdown", "STOP"},
		{"Initialize", "admin-disabled", "STOP"},
		{"Initialize", "fault-cleared", ""},
		{"Backup", "admin-enabled", "BACKUP"},
		{"Master", "admin-enabled", "MASTER"},
	} {
		if got := KeepalivedState(c.to, c.reason); got != c.want {
			t.Errorf("%s %s: %q, want %q", c.to, c.reason, got, c.want)
		}
	}
}
