package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"govrrp/internal/api"
	"govrrp/internal/config"
	"govrrp/internal/version"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// t0 is "now" in the golden tests.
var t0 = time.Date(2026, 11, 26, 1, 2, 3, 123e6, time.UTC)

// fakeBackend is a daemon with fixed routers and events.
type fakeBackend struct {
	routers  []api.RouterStatus
	details  map[string]api.RouterDetail
	past     []api.Event
	live     []api.Event
	endAfter bool // close the stream after the live events
	reload   api.ReloadResult
	ifaces   []api.InterfaceStatus
	bfd      api.BFDStatus
	disabled map[string]bool // admin_test.go
	level    string
}

func (f *fakeBackend) Routers() []api.RouterStatus { return f.routers }

func (f *fakeBackend) Router(name string) (api.RouterDetail, bool) {
	d, ok := f.details[name]
	return d, ok
}

func (f *fakeBackend) Interfaces() []api.InterfaceStatus { return f.ifaces }

func (f *fakeBackend) BFD() api.BFDStatus { return f.bfd }

func (f *fakeBackend) Subscribe(ctx context.Context, history int) ([]api.Event, <-chan api.Event) {
	past := f.past[len(f.past)-min(history, len(f.past)):]
	ch := make(chan api.Event)
	go func() {
		defer close(ch)
		for _, ev := range f.live {
			select {
			case ch <- ev:
			case <-ctx.Done():
				return
			}
		}
		if !f.endAfter {
			<-ctx.Done()
		}
	}()
	return past, ch
}

func (f *fakeBackend) Daemon() api.DaemonStatus { return api.DaemonStatus{} }

func (f *fakeBackend) Reload() api.ReloadResult { return f.reload }

func newFake() *fakeBackend {
	gw := api.RouterStatus{
		Name: "gw", Interface: "eth0", VRID: 51, Family: "ipv4", Version: 3, State: "Master",
		Priority: 150, EffectivePriority: 150, Master: "10.77.0.1", MasterPriority: 150,
		AdvertIntervalMS: 1000, MasterDownMS: 3414.0625, Since: t0.Add(-5*time.Minute - 2*time.Second - 400*time.Millisecond),
		Addresses: []string{"10.77.0.254/24", "10.77.0.253/24"}, Unicast: true,
		SplitBrain: &api.Conflict{Active: true, Episodes: 2, Peers: []string{"10.77.0.2"}, Since: t0.Add(-1500 * time.Millisecond)},
	}
	gw6 := api.RouterStatus{
		Name: "gw6", Interface: "eth0", VRID: 51, Family: "ipv6", Version: 3, State: "Backup",
		Priority: 100, EffectivePriority: 100, Master: "fe80::1", MasterPriority: 200,
		AdvertIntervalMS: 100, MasterDownMS: 339.0625, Since: t0.Add(-2*time.Hour - 3*time.Minute - 7*time.Second),
		Addresses: []string{"fe80::51", "fd77::254/64"}, VMAC: true,
	}
	legacy := api.RouterStatus{
		Name: "legacy", Interface: "eth1", VRID: 52, Family: "ipv4", Version: 2, State: "Backup",
		Priority: 150, EffectivePriority: 100, Master: "10.77.1.2", MasterPriority: 120,
		AdvertIntervalMS: 1000, MasterDownMS: 3609.375, Since: t0.Add(-3 * time.Second),
		Addresses: []string{"10.77.1.254/24"}, Accept: true,
		TwoOwners:       &api.Conflict{Episodes: 1, Peers: []string{"10.77.1.1", "10.77.1.3"}, Since: t0.Add(-20 * time.Minute)},
		VersionMismatch: &api.VersionMismatch{Active: true, Episodes: 1, Peer: "10.77.1.9", PeerVersion: 3, Version: 2, Since: t0.Add(-2 * time.Second)},
	}
	down := api.RouterStatus{
		Name: "down", Interface: "eth2", VRID: 60, Family: "ipv4", Version: 3, State: "Fault", V2Compat: true, FaultReason: "interface-missing",
		Priority: 100, EffectivePriority: 100, AdvertIntervalMS: 1000,
		Since: t0.Add(-4*24*time.Hour - 7*time.Hour - 12*time.Minute), Addresses: []string{"10.77.2.254/24"},
	}
	starting := api.RouterStatus{
		Name: "starting", Interface: "eth3", VRID: 7, Family: "ipv6", Version: 3, State: "Initialize",
		Priority: 100, EffectivePriority: 100, Addresses: []string{"fd77::7/64"},
	}
	tr := func(d time.Duration, from, to, reason string) api.Event {
		return api.Event{Time: t0.Add(-d), Router: "gw", Type: "transition", From: from, To: to, Reason: reason}
	}
	return &fakeBackend{
		routers: []api.RouterStatus{gw, gw6, legacy, down, starting},
		details: map[string]api.RouterDetail{
			"gw": {
				RouterStatus: gw, Preempt: true, SkewMS: 414.0625, ConfiguredInterval: 1000, Primary: "10.77.0.1",
				Counters: map[string]uint64{"adverts_sent": 302, "adverts_received": 17, "became_master": 2, "priority_zero_sent": 1},
				Discards: map[string]uint64{"ttl": 3, "auth": 12, "checksum": 3, "vrid": 0},
				Tracked: []api.Tracked{
					{Kind: "interface", Name: "eth1", Weight: -50, Failed: false},
					{Kind: "script", Name: "chk_web", Weight: -30, Failed: true},
					{Kind: "interface", Name: "uplink", Weight: 0},
					{Kind: "bfd", Name: "frr", Weight: -20, State: "Down"},
					{Kind: "bfd", Name: "ka", Weight: -10, Failed: true, State: "Up", Reverse: true},
				},
				Transitions: []api.Event{
					tr(3*time.Hour, "Initialize", "Backup", "startup"),
					tr(time.Hour+20*time.Minute, "Backup", "Master", "master-no-response"),
					tr(time.Hour, "Master", "Backup", "higher-priority-advert"),
					tr(5*time.Minute+2*time.Second+400*time.Millisecond, "Backup", "Master", "master-no-response"),
				},
				NewMasterReason: "master-no-response",
			},
			"legacy": {
				RouterStatus: legacy, Preempt: true, PreemptDelayMS: 30000, SkewMS: 609.375, ConfiguredInterval: 1000,
				Counters: map[string]uint64{}, Discards: map[string]uint64{},
				Tracked: []api.Tracked{{Kind: "interface", Name: "eth9", Weight: -50, Failed: true}},
			},
			"down": {
				RouterStatus: down, Preempt: true, SkewMS: 609.375, ConfiguredInterval: 1000,
				Counters: map[string]uint64{"adverts_sent": 40, "v2_adverts_sent": 40, "v2_adverts_received": 3, "v2_ignored_from_v3_master": 0, "v3_without_v2": 2},
			},
			"gw6": {
				RouterStatus: gw6, Preempt: false, SkewMS: 39.0625, ConfiguredInterval: 1000,
			},
		},
		past: []api.Event{
			{Time: t0.Add(-2 * time.Hour), Type: "reload", Detail: "refused: c.yaml:5:11: 300 is out of range 1..255\nc.yaml:9:11: name \"gw\" is already used"},
			{Time: t0.Add(-time.Hour), Type: "reload", Detail: "applied"},
			{Time: t0.Add(-30 * time.Minute), Router: "legacy", Type: "track", From: "ok", To: "failed", Detail: "interface eth9", Reason: "link down"},
			{Time: t0.Add(-30 * time.Minute), Router: "legacy", Type: "priority", Priority: 100, Reason: "track interface eth9"},
		},
		live: []api.Event{
			{Time: t0, Router: "gw", Type: "transition", From: "Backup", To: "Master", Reason: "master-no-response"},
			{Time: t0.Add(1500 * time.Millisecond), Router: "gw", Type: "discards", Detail: "ttl +3", Reason: "from 10.77.0.9"},
			{Time: t0.Add(2 * time.Second), Router: "gw6", Type: "transition", From: "Master", To: "Backup", Reason: "higher-priority-advert"},
		},
		ifaces: []api.InterfaceStatus{
			{Interface: "eth0", Family: "ipv4", Routers: 1, UnknownVRID: 12, LastUnknownVRID: 52, LastUnknownFrom: "10.77.0.9", LastUnknownAt: t0.Add(-3 * time.Second),
				Discards: map[string]uint64{"vrid": 12, "version": 2}, Counters: map[string]uint64{"read_errors": 0, "reject_overflow": 5}},
			{Interface: "eth0", Family: "ipv6", Routers: 1, Discards: map[string]uint64{}, Counters: map[string]uint64{"read_errors": 0}},
			{Interface: "eth1", Family: "ipv4", Routers: 1, Discards: map[string]uint64{}, Counters: map[string]uint64{}},
		},
		reload: api.ReloadResult{OK: true, Unchanged: []string{"gw6", "down"}, Updated: []string{"gw"}, Restarted: []string{"legacy"}, Added: []string{"starting"}, Removed: []string{"old"}},
	}
}

// serve runs b's API on a unix socket in a temporary directory and
// returns the socket's path.
func serve(t *testing.T, b api.Backend) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "govrrpd.sock")
	ln, err := api.Listen(sock, -1)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: api.Handler(b)}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return sock
}

// fixNow sets the clock of the "how long ago" columns to t0.
func fixNow(t *testing.T) {
	t.Helper()
	old := now
	now = func() time.Time { return t0 }
	t.Cleanup(func() { now = old })
}

// transcript is what a golden file holds: the command, its exit status,
// and what it printed.
func transcript(args []string, code int, stdout, stderr string) string {
	var b strings.Builder
	b.WriteString("$ govrrp " + strings.Join(args, " ") + "\n")
	b.WriteString("exit " + strconv.Itoa(code) + "\n")
	if stdout != "" {
		b.WriteString("--- stdout\n" + stdout)
	}
	if stderr != "" {
		b.WriteString("--- stderr\n" + stderr)
	}
	return b.String()
}

// golden compares got with testdata/golden/NAME.txt, or rewrites it under
// -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".txt")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/govrrp -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test ./cmd/govrrp -update rewrites it after a wanted change)\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// runGolden runs govrrp -s sock ARGS... and compares its transcript, in
// which the socket is written $SOCK.
func runGolden(t *testing.T, name, sock string, args ...string) (code int, stdout string) {
	t.Helper()
	full := append([]string{"-s", sock}, args...)
	code, stdout, stderr := runCmd(full...)
	tr := transcript(append([]string{"-s", "$SOCK"}, args...), code, stdout, stderr)
	golden(t, name, strings.ReplaceAll(tr, sock, "$SOCK"))
	return code, stdout
}

func TestStatusGolden(t *testing.T) {
	fixNow(t)
	f := newFake()
	sock := serve(t, f)
	if code, _ := runGolden(t, "status", sock, "status"); code != 0 {
		t.Errorf("exit %d", code)
	}
	if code, _ := runGolden(t, "status-json", sock, "status", "--json"); code != 0 {
		t.Errorf("exit %d", code)
	}
	empty := serve(t, &fakeBackend{})
	runGolden(t, "status-empty", empty, "status")
	runGolden(t, "status-empty-json", empty, "status", "--json")
	runGolden(t, "status-extra-arg", sock, "status", "gw")
}

// The JSON is for scripts: the fields the issue names, with their values.
func TestStatusJSONFields(t *testing.T) {
	sock := serve(t, newFake())
	code, out, errOut := runCmd("-s", sock, "status", "--json")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("%d routers", len(got))
	}
	want := map[string]any{"name": "legacy", "interface": "eth1", "vrid": 52.0, "family": "ipv4", "version": 2.0,
		"state": "Backup", "priority": 150.0, "effective_priority": 100.0, "master": "10.77.1.2"}
	for k, v := range want {
		if got[2][k] != v {
			t.Errorf("%s = %v, want %v", k, got[2][k], v)
		}
	}
}

// govrrp bfd: each session's state, negotiated intervals, diagnostics and
// Down counts (failures apart from AdminDowns), then the listeners' drops.
func TestBFDGolden(t *testing.T) {
	fixNow(t)
	f := newFake()
	f.bfd = api.BFDStatus{
		Sessions: []api.BFDSession{
			{Name: "frr", Interface: "eth0", Peer: "10.77.0.2", State: "Down", RemoteState: "AdminDown", Diag: "neighbor_signaled_down",
				RemoteDiag: "administratively_down", TxIntervalMS: 1000, Since: t0.Add(-3 * time.Second),
				Counters: map[string]uint64{api.BFDCounterUps: 2, api.BFDCounterFailures: 1, api.BFDCounterAdminDowns: 1}},
			{Name: "ka6", Interface: "eth1", Peer: "fe80::2", State: "Up", RemoteState: "Up", Diag: "none", RemoteDiag: "none",
				TxIntervalMS: 10, RxIntervalMS: 10, DetectionMS: 30, Since: t0.Add(-5 * time.Minute),
				Counters: map[string]uint64{api.BFDCounterUps: 1}},
			{Name: "vlan9", Interface: "eth0.9", Peer: "10.77.9.2", State: "Down", RemoteState: "Down", Diag: "none", RemoteDiag: "none",
				Waiting: "interface-missing", Counters: map[string]uint64{}},
		},
		Listeners: []api.BFDListener{{Interface: "eth0", Family: "ipv4", Drops: map[string]uint64{"ttl": 3, "no_session": 1}}, {Interface: "eth1", Family: "ipv6"}},
	}
	sock := serve(t, f)
	runGolden(t, "bfd", sock, "bfd")
	runGolden(t, "bfd-json", sock, "bfd", "--json")
	runGolden(t, "bfd-none", serve(t, &fakeBackend{}), "bfd")
	runGolden(t, "status-bfd", sock, "status")
}

func TestShowGolden(t *testing.T) {
	fixNow(t)
	sock := serve(t, newFake())
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"show-gw", []string{"show", "gw"}, 0},
		{"show-legacy", []string{"show", "legacy"}, 0},
		{"show-gw6", []string{"show", "gw6"}, 0},
		{"show-down", []string{"show", "down"}, 0}, // v2_compat [5798-8.4.2-b]
		{"show-gw-json", []string{"show", "gw", "--json"}, 0},
		{"show-unknown", []string{"show", "nope"}, 1},
		{"show-no-name", []string{"show"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, _ := runGolden(t, tc.name, sock, tc.args...); code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
		})
	}
}

// cancelWriter is standard output that presses Ctrl-C after n lines.
type cancelWriter struct {
	bytes.Buffer
	n      int
	cancel context.CancelFunc
}

func (w *cancelWriter) Write(p []byte) (int, error) {
	n, err := w.Buffer.Write(p)
	if strings.Count(w.String(), "\n") >= w.n {
		w.cancel()
	}
	return n, err
}

// runWatchUntil runs watch until it has printed lines lines, then
// interrupts it as Ctrl-C would.
func runWatchUntil(t *testing.T, lines int, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	old := watchContext
	watchContext = func() (context.Context, context.CancelFunc) { return ctx, cancel }
	defer func() { watchContext = old }()
	out := &cancelWriter{n: lines, cancel: cancel}
	var errOut bytes.Buffer
	code = run(args, out, &errOut)
	return code, out.String(), errOut.String()
}

func TestWatchGolden(t *testing.T) {
	f := newFake()
	sock := serve(t, f)
	for _, tc := range []struct {
		name  string
		args  []string
		lines int
	}{
		{"watch", []string{"watch"}, 3},
		{"watch-history", []string{"watch", "--history", "2"}, 5},
		{"watch-history-all", []string{"watch", "--history=10"}, 7},
		{"watch-json", []string{"watch", "--json", "--history", "1"}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runWatchUntil(t, tc.lines, append([]string{"-s", sock}, tc.args...)...)
			if code != 0 {
				t.Errorf("Ctrl-C: exit %d, want 0", code)
			}
			golden(t, tc.name, transcript(tc.args, code, out, errOut))
		})
	}
	// The daemon ends the stream (it stopped, or we fell behind): exit 1.
	f2 := newFake()
	f2.endAfter = true
	if code, _ := runGolden(t, "watch-closed", serve(t, f2), "watch"); code != 1 {
		t.Errorf("closed stream: exit %d, want 1", code)
	}
}

func TestReloadGolden(t *testing.T) {
	f := newFake()
	sock := serve(t, f)
	if code, _ := runGolden(t, "reload", sock, "reload"); code != 0 {
		t.Errorf("exit %d", code)
	}
	f2 := newFake()
	f2.reload = api.ReloadResult{OK: false, Error: "/etc/govrrp/govrrpd.yaml:5:11: 300 is out of range 1..255; VRIDs are 1..255\n" +
		"/etc/govrrp/govrrpd.yaml:9:11: name \"gw\" is already used at line 3; give each router its own name"}
	sock2 := serve(t, f2)
	if code, _ := runGolden(t, "reload-error", sock2, "reload"); code != 1 {
		t.Errorf("refused reload: exit %d, want 1", code)
	}
	if code, _ := runGolden(t, "reload-error-json", sock2, "reload", "--json"); code != 1 {
		t.Errorf("refused reload --json: exit %d, want 1", code)
	}
	runGolden(t, "reload-nothing", serve(t, &fakeBackend{reload: api.ReloadResult{OK: true}}), "reload")
}

func TestHelpGolden(t *testing.T) {
	code, out, errOut := runCmd("help")
	golden(t, "help", strings.ReplaceAll(transcript([]string{"help"}, code, out, errOut), "govrrp "+version.Version+":", "govrrp VERSION:"))
	for _, c := range commands {
		code, out, errOut := runCmd("help", c.name)
		if code != 0 || errOut != "" || !strings.HasPrefix(out, "Usage: govrrp ") {
			t.Errorf("help %s: exit %d, %q, %q", c.name, code, out, errOut)
		}
	}
	for _, name := range []string{"status", "show", "watch", "reload"} {
		code, _, errOut := runCmd(name, "-h")
		if code != 0 || !strings.Contains(errOut, "Usage: govrrp [-s PATH] "+name) {
			t.Errorf("%s -h: exit %d, %q", name, code, errOut)
		}
	}
}

// A CLI that can't reach the daemon says so and how to fix it: every
// daemon command exits 1 with the socket path and a hint.
func TestUnreachable(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale.sock") // a file nobody listens on
	if err := os.WriteFile(stale, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ sock, hint string }{
		{filepath.Join(dir, "missing.sock"), "no socket there: is govrrpd running?"},
		{stale, "nothing listens"},
	}
	if os.Geteuid() != 0 { // root passes every permission check
		locked := filepath.Join(t.TempDir(), "locked")
		if err := os.Mkdir(locked, 0o700); err != nil {
			t.Fatal(err)
		}
		sock := serve(t, newFake())
		if err := os.Rename(sock, filepath.Join(locked, "govrrpd.sock")); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(locked, 0o100); err != nil { // search, no read
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(locked, "govrrpd.sock"), 0); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(locked, 0o700) })
		cases = append(cases, struct{ sock, hint string }{filepath.Join(locked, "govrrpd.sock"), "permission denied"})
	}
	for _, tc := range cases {
		for _, args := range [][]string{{"status"}, {"status", "--json"}, {"show", "gw"}, {"watch"}, {"reload"}} {
			code, out, errOut := runWatchUntil(t, 1, append([]string{"-s", tc.sock}, args...)...)
			want := "govrrp " + args[0] + ": cannot reach govrrpd at " + tc.sock + ": "
			if code != 1 || out != "" || !strings.HasPrefix(errOut, want) || !strings.Contains(errOut, tc.hint) {
				t.Errorf("%v on %s: exit %d, stdout %q, stderr %q; want exit 1 and %q ... %q", args, tc.sock, code, out, errOut, want, tc.hint)
			}
		}
	}
}

// The socket comes from -s/--socket (after the command name beats before
// it), else $GOVRRP_SOCKET, else config.DefaultControlSocket.
func TestSocketSelection(t *testing.T) {
	live := serve(t, newFake())
	dead := filepath.Join(t.TempDir(), "dead.sock")
	for _, tc := range []struct {
		env  string
		args []string
		ok   bool
	}{
		{live, []string{"status"}, true},
		{dead, []string{"status"}, false},
		{dead, []string{"-s", live, "status"}, true},
		{dead, []string{"--socket", live, "status"}, true},
		{dead, []string{"--socket=" + live, "status"}, true},
		{dead, []string{"status", "-s", live}, true},
		{dead, []string{"show", "gw", "--socket", live}, true},
		{live, []string{"-s", dead, "status"}, false},
		{dead, []string{"-s", live, "status", "-s", dead}, false},
		{dead, []string{"-s", dead, "status", "-s", live}, true},
	} {
		t.Setenv(socketEnv, tc.env)
		code, _, errOut := runCmd(tc.args...)
		if (code == 0) != tc.ok {
			t.Errorf("GOVRRP_SOCKET=%s %v: exit %d, stderr %q", tc.env, tc.args, code, errOut)
		}
		if !tc.ok && !strings.Contains(errOut, dead) {
			t.Errorf("%v: the error should name the socket tried: %q", tc.args, errOut)
		}
	}
	t.Setenv(socketEnv, "")
	code, _, errOut := runCmd("status")
	if code == 0 && errOut == "" {
		t.Log("a govrrpd answers on the default socket; not checking its error")
	} else if !strings.Contains(errOut, config.DefaultControlSocket) {
		t.Errorf("default socket: exit %d, stderr %q", code, errOut)
	}
	for _, args := range [][]string{{"-s"}, {"-s", "", "status"}, {"status", "-s"}, {"--bogus", "status"}, {"status", "--bogus"}} {
		if code, out, errOut := runCmd(args...); code != 2 || out != "" || errOut == "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want a usage error", args, code, out, errOut)
		}
	}
}
