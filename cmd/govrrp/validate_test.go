package main

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"govrrp/internal/config"
)

// fakeHost is a machine with the given interfaces and addresses (MTU
// 1500), no groups, and every executable but those named "missing".
type fakeHost map[string][]netip.Prefix

func (h fakeHost) Interfaces() ([]config.Interface, error) {
	var out []config.Interface
	for _, name := range slices.Sorted(maps.Keys(h)) {
		out = append(out, config.Interface{Name: name, MTU: 1500, Addrs: h[name]})
	}
	return out, nil
}

func (fakeHost) Group(string) error { return errors.New("unknown group") }

func (fakeHost) Recorded(string) []netip.Addr { return nil }

func (fakeHost) Executable(path string) error {
	if strings.Contains(path, "missing") {
		return errors.New("not found")
	}
	return nil
}

func setHost(t *testing.T, h config.Host) {
	t.Helper()
	old := host
	host = h
	t.Cleanup(func() { host = old })
}

var fullYAML = filepath.Join("..", "..", "internal", "config", "testdata", "full.yaml")

func TestValidateGolden(t *testing.T) {
	setHost(t, fakeHost{
		"eth0": {netip.MustParsePrefix("10.77.0.1/24"), netip.MustParsePrefix("fe80::1/64")},
		"eth1": {netip.MustParsePrefix("10.77.1.1/24")},
		"lo":   {netip.MustParsePrefix("127.0.0.1/8")},
	})
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"validate-full-no-host", []string{"validate", "--no-host", fullYAML}, 0},
		{"validate-full-host", []string{"validate", fullYAML}, 0},
		{"validate-bad", []string{"validate", filepath.Join("testdata", "bad.yaml")}, 1},
		// The file is fine; this machine is not the one it is for.
		{"validate-host-bad", []string{"validate", filepath.Join("testdata", "host.yaml")}, 1},
		{"validate-host-skipped", []string{"validate", filepath.Join("testdata", "host.yaml"), "--no-host"}, 0},
		// A non-owner whose VIP is the host's own address (issue 12).
		{"validate-host-address", []string{"validate", filepath.Join("testdata", "hostaddr.yaml")}, 1},
		// A missing interface, hook or script may appear later: warnings, exit 0.
		{"validate-warn", []string{"validate", filepath.Join("testdata", "warn.yaml")}, 0},
		{"validate-missing", []string{"validate", filepath.Join("testdata", "missing.yaml")}, 1},
		{"validate-two-files", []string{"validate", "a.yaml", "b.yaml"}, 2},
		{"validate-v2compat", []string{"validate", "--no-host", filepath.Join("testdata", "v2compat.yaml")}, 0}, // shown as v3+v2 [5798-8.4.2-b]
		// An IPv6 list without a link-local address: a warning, with or
		// without the host checks, and an error under strict [E8300].
		{"validate-v6-global", []string{"validate", "--no-host", filepath.Join("testdata", "v6global.yaml")}, 0},
		{"validate-v6-global-host", []string{"validate", filepath.Join("testdata", "v6global.yaml")}, 0},
		{"validate-v6-global-strict", []string{"validate", "--no-host", filepath.Join("testdata", "v6global-strict.yaml")}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCmd(tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			golden(t, tc.name, transcript(tc.args, code, out, errOut))
		})
	}
}

// validate never talks to govrrpd: a bad socket does not matter.
func TestValidateNeedsNoDaemon(t *testing.T) {
	setHost(t, fakeHost{"eth0": {netip.MustParsePrefix("10.77.0.1/24")}})
	code, out, errOut := runCmd("-s", filepath.Join(t.TempDir(), "none.sock"), "validate", fullYAML)
	if code != 0 || errOut != "" || !strings.HasPrefix(out, fullYAML+": OK (3 routers)\n") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// The real host check, on the loopback interface every machine has.
func TestValidateSystemHost(t *testing.T) {
	name := filepath.Join(t.TempDir(), "lo.yaml")
	conf := "routers:\n  - {name: lo4, interface: lo, vrid: 9, priority: 255, addresses: [127.0.0.1/8]}\n" +
		"  - {name: nope, interface: govrrp-no-such0, vrid: 9, addresses: [10.77.0.9/24]}\n"
	if err := os.WriteFile(name, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd("validate", name)
	if code != 0 || !strings.HasPrefix(out, name+": OK (2 routers, 1 warning)") || !strings.Contains(errOut, name+":3:") ||
		!strings.Contains(errOut, `interface "govrrp-no-such0"`) || !strings.HasSuffix(errOut, "(warning)\n") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// 127.0.0.1 is lo's: a non-owner would delete it.
	if err := os.WriteFile(name, []byte(strings.Replace(conf, "priority: 255", "priority: 254", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCmd("validate", name)
	if code != 1 || out != "" || !strings.Contains(errOut, name+":2:68: 127.0.0.1 is already an address of lo") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if err := os.WriteFile(name, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCmd("validate", "--no-host", name)
	if code != 0 || errOut != "" || !strings.HasPrefix(out, name+": OK (2 routers, host checks skipped)") {
		t.Errorf("--no-host: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// Without FILE, validate reads the file govrrpd reads by default: its
// error names that file when it is missing, and its OK when it is there.
// The default is moved to a directory of the test's own, so the machine's
// /etc/govrrp plays no part (and the test never skips).
func TestValidateDefaultFile(t *testing.T) {
	if defaultFile != config.DefaultFile {
		t.Fatalf("validate's default is %s, govrrpd's %s", defaultFile, config.DefaultFile)
	}
	name := filepath.Join(t.TempDir(), "govrrpd.yaml")
	defer func(f string) { defaultFile = f }(defaultFile)
	defaultFile = name
	code, out, errOut := runCmd("validate")
	if code != 1 || out != "" || !strings.Contains(errOut, name) {
		t.Errorf("missing: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if err := os.WriteFile(name, []byte("routers:\n  - {interface: eth0, vrid: 1, addresses: [10.77.0.1/24]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCmd("validate", "--no-host")
	if code != 0 || errOut != "" || !strings.HasPrefix(out, name+": OK (1 router, host checks skipped)") {
		t.Errorf("present: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// At most 50 errors are printed, then how many more.
func TestValidateManyErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString("routers:\n  - {interface: eth0, vrid: 1, addresses: [10.77.0.1/24]}\n")
	for i := range 1000 {
		fmt.Fprintf(&b, "bad%d: 1\n", i)
	}
	name := filepath.Join(t.TempDir(), "many.yaml")
	if err := os.WriteFile(name, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd("validate", "--no-host", name)
	lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
	if code != 1 || out != "" || len(lines) != 52 || lines[50] != "and 950 more" || lines[51] != name+": 1000 errors" {
		t.Errorf("exit %d, %d lines, ending %q", code, len(lines), lines[max(len(lines)-2, 0):])
	}
}
