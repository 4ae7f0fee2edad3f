package main

import (
	"cmp"
	"path/filepath"
	"strings"
	"testing"

	"govrrp/internal/api"
)

func (f *fakeBackend) SetDisabled(name string, off bool) (api.AdminResult, bool) {
	for _, r := range f.routers {
		if r.Name != name {
			continue
		}
		if f.disabled == nil {
			f.disabled = map[string]bool{}
		}
		res := api.AdminResult{Router: name, Disabled: off, Changed: f.disabled[name] != off, State: r.State}
		f.disabled[name] = off
		if off {
			res.State = "Initialize"
		}
		return res, true
	}
	return api.AdminResult{}, false
}

func (f *fakeBackend) LogLevel() string { return cmp.Or(f.level, "info") }

func (f *fakeBackend) SetLogLevel(s string) error {
	if _, err := api.ParseLogLevel(s); err != nil {
		return err
	}
	f.level = s
	return nil
}

// govrrp disable and enable: what changed, idempotent, an unknown name
// exits 1 with the hint, no name is a usage error. govrrp log-level shows
// the level, sets one, and refuses a name that is not a level before asking
// the daemon.
func TestAdminGolden(t *testing.T) {
	f := newFake()
	sock := serve(t, f)
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"disable", []string{"disable", "gw"}, 0},
		{"disable-again", []string{"disable", "gw"}, 0},
		{"enable", []string{"enable", "gw"}, 0},
		{"enable-again", []string{"enable", "gw"}, 0},
		{"disable-json", []string{"disable", "--json", "gw6"}, 0},
		{"disable-unknown", []string{"disable", "nope"}, 1},
		{"enable-no-name", []string{"enable"}, 2},
		{"log-level", []string{"log-level"}, 0},
		{"log-level-debug", []string{"log-level", "debug"}, 0},
		{"log-level-bad", []string{"log-level", "verbose"}, 2},
		{"log-level-two", []string{"log-level", "debug", "info"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, _ := runGolden(t, tc.name, sock, tc.args...); code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
		})
	}
	if f.level != "debug" {
		t.Errorf("level %q after the calls, want debug", f.level)
	}
}

// A disabled router in govrrp status and govrrp show.
func TestDisabledStatusGolden(t *testing.T) {
	fixNow(t)
	f := newFake()
	gw := f.details["gw"]
	gw.State, gw.Master, gw.MasterPriority, gw.SplitBrain, gw.Disabled = "Initialize", "", 0, nil, true
	f.routers = []api.RouterStatus{gw.RouterStatus}
	f.details = map[string]api.RouterDetail{"gw": gw}
	sock := serve(t, f)
	runGolden(t, "status-disabled", sock, "status")
	runGolden(t, "show-disabled", sock, "show", "gw")
}

// A reload that left keys for the next start lists them and exits 3.
func TestReloadSkippedGolden(t *testing.T) {
	f := newFake()
	f.reload.Skipped = []api.SkippedKey{
		{Key: "control_socket", Pos: "/etc/govrrp/govrrpd.yaml:1:17", Why: "the control socket is opened once, at start"},
		{Key: "metrics_listen", Pos: "/etc/govrrp/govrrpd.yaml", Why: "the metrics listener is opened once, at start"},
	}
	sock := serve(t, f)
	if code, _ := runGolden(t, "reload-skipped", sock, "reload"); code != exitPartial {
		t.Errorf("exit %d, want %d", code, exitPartial)
	}
	if code, _ := runGolden(t, "reload-skipped-json", sock, "reload", "--json"); code != exitPartial {
		t.Errorf("--json: exit %d, want %d", code, exitPartial)
	}
}

// The admin commands say so, and how to fix it, when govrrpd cannot be
// reached: exit 1.
func TestAdminUnreachable(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "missing.sock")
	for _, args := range [][]string{{"disable", "gw"}, {"enable", "gw"}, {"log-level"}, {"log-level", "debug"}} {
		code, out, errOut := runCmd(append([]string{"-s", sock}, args...)...)
		want := "govrrp " + args[0] + ": cannot reach govrrpd at " + sock + ": no socket there"
		if code != 1 || out != "" || !strings.HasPrefix(errOut, want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 1 and %q", args, code, out, errOut, want)
		}
	}
}
