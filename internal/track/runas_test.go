package track

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"govrrp/internal/testenv"
)

// A script with a user runs as that user (keepalived's vrrp_script `user`):
// run as nobody, it sees nobody's uid and gid and none of root's groups.
func TestScriptRunsAsUser(t *testing.T) {
	u, nobody, dir := testenv.Nobody(t)
	script := filepath.Join(dir, "check")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n[ \"$(id -u):$(id -g):$(id -G)\" = \""+u.Uid+":"+u.Gid+":"+u.Gid+"\" ]\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		cred *syscall.Credential
		ok   bool
	}{
		{nil, false}, // as root: the check fails, so it does test the uid
		{nobody, true},
	} {
		s := &Script{Name: "whoami", Argv: []string{script}, Interval: time.Hour, Timeout: 5 * time.Second, Cred: c.cred}
		ok, out, err := s.runOnce(context.Background())
		if ok != c.ok {
			t.Errorf("cred %+v: ok %v (err %v, output %q); want %v", c.cred, ok, err, strings.TrimSpace(out), c.ok)
		}
	}
}
