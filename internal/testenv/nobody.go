package testenv

import (
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// Nobody prepares a test that runs a program as the user nobody (a script
// or hook with a user): it requires root, returns nobody's user entry, its
// credential (no supplementary groups) and a temporary directory nobody
// can reach and write in.
func Nobody(t testing.TB) (*user.User, *syscall.Credential, string) {
	t.Helper()
	RequireRoot(t)
	u, err := user.Lookup("nobody")
	if err != nil {
		Missing(t, "no user nobody to run programs as")
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	dir := t.TempDir()
	if err := os.Chmod(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	return u, &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, dir
}
