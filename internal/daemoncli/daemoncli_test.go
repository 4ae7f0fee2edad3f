package daemoncli

import (
	"bytes"
	"strings"
	"testing"

	"govrrp/internal/config"
	"govrrp/internal/version"
)

// govrrpd follows govrrp's conventions (issue 15): long flags, the old
// single-dash forms still working, --help on stdout with exit 0, unknown
// flags and extra arguments a usage error (exit 2, stderr).
func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name           string
		args           []string
		exit           int
		want           Options
		stdout, stderr string // substrings; "" = must be empty
	}{
		{"defaults", nil, -1, Options{Config: config.DefaultFile}, "", ""},
		{"long config", []string{"--config", "/x.yaml"}, -1, Options{Config: "/x.yaml"}, "", ""},
		{"long config =", []string{"--config=/x.yaml", "--check"}, -1, Options{Config: "/x.yaml", Check: true}, "", ""},
		{"old single dash", []string{"-check", "-c", "/x.yaml"}, -1, Options{Config: "/x.yaml", Check: true}, "", ""},
		{"profiles", []string{"--cpuprofile", "/c", "--memprofile", "/m"}, -1, Options{Config: config.DefaultFile, CPUProfile: "/c", MemProfile: "/m"}, "", ""},
		{"help", []string{"--help"}, 0, Options{}, "Usage: govrrpd [--config FILE]", ""},
		{"-h", []string{"-h"}, 0, Options{}, "--config FILE", ""},
		{"version", []string{"--version"}, 0, Options{}, "govrrpd " + version.Version + " (commit ", ""},
		// The flag as typed: the flag package would say -frobnicate.
		{"unknown flag", []string{"--frobnicate"}, 2, Options{}, "", "govrrpd: flag provided but not defined: --frobnicate\n"},
		{"unknown flag =", []string{"--check", "--frob=1"}, 2, Options{}, "", "govrrpd: flag provided but not defined: --frob\n"},
		{"unknown single-dash flag", []string{"-frobnicate"}, 2, Options{}, "", "govrrpd: flag provided but not defined: -frobnicate\n"},
		{"bad boolean", []string{"--check=maybe"}, 2, Options{}, "", `govrrpd: invalid boolean value "maybe" for --check: parse error`},
		{"extra argument", []string{"/etc/govrrp/govrrpd.yaml"}, 2, Options{}, "", `unexpected argument "/etc/govrrp/govrrpd.yaml"`},
		{"argument after flags", []string{"--check", "x"}, 2, Options{}, "", `unexpected argument "x"`},
		{"missing value", []string{"--config"}, 2, Options{}, "", "govrrpd: flag needs an argument: --config\n"},
		{"empty config", []string{"--config="}, 2, Options{}, "", "--config is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			o, exit := Parse(tc.args, &out, &errOut)
			if exit != tc.exit {
				t.Fatalf("exit %d, want %d (stderr %q)", exit, tc.exit, errOut.String())
			}
			if exit == -1 && o != tc.want {
				t.Errorf("options %+v, want %+v", o, tc.want)
			}
			for _, c := range []struct {
				name, got, want string
			}{{"stdout", out.String(), tc.stdout}, {"stderr", errOut.String(), tc.stderr}} {
				if c.want == "" && c.got != "" || !strings.Contains(c.got, c.want) {
					t.Errorf("%s %q, want it to contain %q", c.name, c.got, c.want)
				}
			}
		})
	}
}

// Every flag in the table is parsed and shown in the help with its names.
func TestUsageListsEveryFlag(t *testing.T) {
	var out bytes.Buffer
	Usage(&out)
	for _, f := range Flags {
		if !strings.Contains(out.String(), f.Label()) {
			t.Errorf("help lacks %q:\n%s", f.Label(), out.String())
		}
		for _, n := range f.Names {
			if n == "h" || n == "help" {
				continue
			}
			var o, e bytes.Buffer
			args := []string{"--" + n}
			if f.Arg != "" {
				args = append(args, "v")
			}
			if _, exit := Parse(args, &o, &e); exit > 0 {
				t.Errorf("--%s: exit %d: %s", n, exit, e.String())
			}
		}
	}
}
