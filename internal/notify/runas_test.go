package notify

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"govrrp/internal/testenv"
)

// TestHooksRunAsUser: with notify_user (keepalived's script_user, or a
// notify script's USER [GROUP]) every hook form runs as that user, with its
// group and none of the daemon's supplementary groups.
func TestHooksRunAsUser(t *testing.T) {
	u, nobody, dir := testenv.Nobody(t)
	out := filepath.Join(dir, "ids")
	hook := filepath.Join(dir, "hook.sh")
	if err := os.WriteFile(hook, []byte("#!/bin/sh\necho \"$(id -u):$(id -g):$(id -G)\" >> "+out+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := NewHooks(Hooks{Notify: [][]string{{hook}}, Master: [][]string{{hook}}, Keepalived: [][]string{{hook}},
		Cred: nobody}, 10*time.Second, discard())
	r.Notify(Event{Router: "gw", From: "Backup", To: "Master", Reason: "test", VRID: 51})
	got := closeAndRead(t, r, out)
	one := u.Uid + ":" + u.Gid + ":" + u.Gid + "\n"
	if want := one + one + one; string(got) != want {
		t.Fatalf("the hooks ran as:\n%s\nwant:\n%s", got, want)
	}
}
