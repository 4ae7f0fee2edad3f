package main

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"govrrp/internal/config"
)

// fakeHost is a machine with the given interfaces and addresses.
type fakeHost map[string][]netip.Prefix

func (h fakeHost) InterfaceAddrs(name string) ([]netip.Prefix, error) {
	if a, ok := h[name]; ok {
		return a, nil
	}
	return nil, config.ErrNoInterface
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
		{"validate-missing", []string{"validate", filepath.Join("testdata", "missing.yaml")}, 1},
		{"validate-two-files", []string{"validate", "a.yaml", "b.yaml"}, 2},
		{"validate-v2compat", []string{"validate", "--no-host", filepath.Join("testdata", "v2compat.yaml")}, 0}, // shown as v3+v2 [5798-8.4.2-b]
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
	setHost(t, fakeHost{"eth0": nil})
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
	if code != 1 || out != "" || !strings.Contains(errOut, name+":3:") || !strings.Contains(errOut, `interface "govrrp-no-such0"`) ||
		strings.Contains(errOut, ":2:") || !strings.HasSuffix(errOut, name+": 1 error\n") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, errOut = runCmd("validate", "--no-host", name)
	if code != 0 || errOut != "" || !strings.HasPrefix(out, name+": OK (2 routers, host checks skipped)") {
		t.Errorf("--no-host: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// Without FILE, validate reads the file govrrpd reads by default.
func TestValidateDefaultFile(t *testing.T) {
	if _, err := os.Stat(config.DefaultFile); err == nil {
		t.Skip(config.DefaultFile + " exists here; not validating the machine's configuration")
	}
	code, _, errOut := runCmd("validate")
	if code != 1 || !strings.Contains(errOut, config.DefaultFile) {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}
