package docs

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"govrrp/internal/testenv"
)

// layers is the house of DEVELOPERS.md's layout, bottom first: for every
// govrrp package (import path below the module; "x/..." is x and all under
// it), the govrrp packages its non-test code may import, and why. Each
// package names only packages of rows above it in this list (or its own
// "x/..." family), so no package imports one above it and the graph has no
// cycles. A new package gets a row here at its layer.
var layers = []layer{
	// Pure codecs: the bottom, nothing of govrrp.
	{"vrrp", nil, "the codec is the bottom: it imports nothing of govrrp"},
	{"bfd/...", []string{"bfd/..."}, "the BFD codec and session are a bottom layer like vrrp: nothing of govrrp outside bfd/"},

	// Leaves: small helpers that know nothing of VRRP.
	{"internal/yamlwalk", nil, "the YAML walker serves config and scenarios and knows neither"},
	{"internal/version", nil, "a leaf"},
	{"internal/httplimit", nil, "a leaf"},
	{"internal/proc", nil, "a leaf"},
	{"internal/pcapfile", nil, "a leaf"},
	{"internal/agentx", nil, "the AgentX protocol knows nothing of VRRP (internal/snmp maps the MIBs)"},
	{"internal/deadline", nil, "the deadline heap of an event loop is generic over its items"},
	{"internal/debpkg", nil, "a leaf"},
	{"internal/nsrun", nil, "a test helper leaf"},
	{"internal/testenv", nil, "a test helper leaf"},

	// The protocol without I/O.
	{"fsm", []string{"vrrp"}, "the state machine has no I/O: codec below it, nothing else"},
	{"sim", []string{"vrrp", "fsm", "bfd/..."}, "the simulator runs real state machines (VRRP and BFD) over the codecs, no I/O"},
	{"internal/config", []string{"vrrp", "bfd/...", "fsm", "internal/yamlwalk"}, "the configuration schema builds on the protocol, never on the data plane or the daemon"},
	{"sim/scenario", []string{"vrrp", "fsm", "bfd/...", "sim", "internal/config", "internal/yamlwalk"}, "scenarios read configs and run the simulator, no I/O"},

	// The data plane and the effects, behind small interfaces.
	{"internal/linux", []string{"vrrp", "bfd/..."}, "the data plane sits behind small interfaces: it knows the codecs, never fsm, config or the daemon; the daemon converts the configuration to its types"},
	{"internal/bfdrun", []string{"bfd/...", "fsm", "internal/deadline", "internal/linux"}, "the BFD sessions' event loop: the session machines on the data plane's sockets (fsm for its clock)"},
	{"internal/api", []string{"internal/httplimit"}, "the control API's types know nothing of the daemon that fills them"},
	{"internal/track", []string{"internal/proc"}, "tracking runs scripts, knows nothing of routers"},
	{"internal/notify", []string{"internal/proc"}, "hooks run processes, know nothing of routers"},

	// The wiring.
	{"internal/daemon", []string{"vrrp", "bfd/...", "fsm", "internal/config", "internal/deadline", "internal/linux", "internal/bfdrun", "internal/api", "internal/track", "internal/notify", "internal/proc"}, "the daemon wires protocol, configuration, data plane and effects"},

	// Over the daemon's API and the configuration.
	{"internal/metrics", []string{"internal/api", "internal/httplimit", "internal/version"}, "metrics read the API snapshots, never the daemon"},
	{"internal/snmp", []string{"vrrp", "internal/agentx", "internal/api"}, "the MIBs read the API snapshots, never the daemon"},
	{"internal/keepalived", []string{"vrrp", "internal/config"}, "the importer translates to the configuration"},
	{"internal/daemoncli", []string{"internal/config", "internal/version"}, "govrrpd's flags"},
	{"internal/clidoc", []string{"internal/config", "internal/daemoncli"}, "man pages and completion from the tables"},

	// Test helpers: only tests, test/, the demo and cmd/govrrp-lab import them.
	{"internal/lab", []string{"vrrp", "internal/nsrun", "internal/testenv"}, "the namespace lab"},
	{"internal/lab/probe", nil, "the prober"},
	{"internal/lab/govrrpd", []string{"internal/api", "internal/lab"}, "the daemon harness drives govrrpd through its API"},
	{"internal/demo", []string{"vrrp", "fsm", "internal/api", "internal/lab", "internal/lab/govrrpd", "internal/lab/probe"}, "the demo runs govrrpd on the lab"},

	// The top: mains, thin.
	{"cmd/govrrpd", []string{"internal/agentx", "internal/api", "internal/config", "internal/daemon", "internal/daemoncli", "internal/metrics", "internal/snmp", "internal/version"}, "the daemon's main"},
	{"cmd/govrrp", []string{"vrrp", "fsm", "sim/scenario", "internal/api", "internal/config", "internal/keepalived", "internal/pcapfile", "internal/version"}, "the CLI: flags and rendering, no privileges, never the daemon or the data plane"},
	{"cmd/govrrp-lab", []string{"internal/demo", "internal/lab", "internal/version"}, "make demo's main"},
	{"scripts/package", []string{"internal/debpkg"}, "make package's main"},
	{"docs", nil, "checks of the documentation, tests only"},
	{"test/...", []string{"*"}, "the namespace suites may use anything below them"},
}

// testHelpers are the packages only tests, test/, the demo and
// cmd/govrrp-lab may import; mayUseTestHelpers are those.
var (
	testHelpers       = []string{"internal/lab/...", "internal/testenv"}
	mayUseTestHelpers = []string{"internal/lab/...", "internal/demo", "cmd/govrrp-lab", "test/..."}
)

type layer struct {
	pkg string
	may []string // "*": any package of a row above
	why string
}

const module = "govrrp/"

// matches reports whether the package path p is pattern pat.
func matches(pat, p string) bool {
	if base, ok := strings.CutSuffix(pat, "/..."); ok {
		return p == base || strings.HasPrefix(p, base+"/")
	}
	return p == pat
}

// row is the index in layers of the row of package p, or -1.
func row(p string) int {
	return slices.IndexFunc(layers, func(l layer) bool {
		return matches(l.pkg, p)
	})
}

// The table itself points only down: each row names packages of rows above
// it (or its own family).
func TestLayersPointDown(t *testing.T) {
	for i, l := range layers {
		for _, m := range l.may {
			if m == "*" || m == l.pkg {
				continue
			}
			j := slices.IndexFunc(layers[:i], func(u layer) bool {
				return u.pkg == m
			})
			if j < 0 {
				t.Errorf("row %s may import %s, which is not a row above it", l.pkg, m)
			}
		}
	}
}

// Every govrrp package's non-test imports keep to its row of layers, and no
// production package imports a test helper (DEVELOPERS.md, Layout and Rules).
func TestLayering(t *testing.T) {
	goCmd := testenv.RequireTool(t, "go") // go test puts its own first on PATH
	cmd := exec.Command(goCmd, "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	n := 0
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		pkg, ok := strings.CutPrefix(f[0], module)
		if !ok {
			t.Fatalf("go list printed %q: not a package of module %s", f[0], module)
		}
		n++
		i := row(pkg)
		if i < 0 {
			t.Errorf("%s is in no layer: give it a row in docs/layering_test.go at its layer (DEVELOPERS.md, Layout)", pkg)
			continue
		}
		l := layers[i]
		for _, imp := range f[1:] {
			dep, ok := strings.CutPrefix(imp, module)
			if !ok {
				continue // the standard library or another module
			}
			if slices.ContainsFunc(testHelpers, func(h string) bool { return matches(h, dep) }) &&
				!slices.ContainsFunc(mayUseTestHelpers, func(u string) bool { return matches(u, pkg) }) {
				t.Errorf("%s imports %s: test helpers are for tests, test/, internal/demo and cmd/govrrp-lab only", pkg, dep)
				continue
			}
			j := row(dep)
			allowed := slices.ContainsFunc(l.may, func(m string) bool { return matches(m, dep) || m == "*" && j >= 0 && j < i })
			if !allowed {
				may := "nothing of govrrp"
				if len(l.may) > 0 {
					may = "only " + strings.Join(l.may, ", ")
				}
				above := ""
				if j > i {
					above = ", a layer above it"
				}
				t.Errorf("%s imports %s%s: %s may import %s (%s)", pkg, dep, above, l.pkg, may, l.why)
			}
		}
	}
	if n < 20 {
		t.Fatalf("go list named %d packages: is the pattern right?", n)
	}
}
