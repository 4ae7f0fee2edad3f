// Package docs holds checks that keep the documentation true to the code
// and the spec.
package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every requirement ID of the spec appears in the conformance table.
func TestConformanceCoversSpec(t *testing.T) {
	spec, err := os.ReadFile("spec/VRRP.md")
	if err != nil {
		t.Fatal(err)
	}
	table, err := os.ReadFile("CONFORMANCE.md")
	if err != nil {
		t.Fatal(err)
	}
	ids := regexp.MustCompile(`\[((?:5798|9568|3768)-[0-9.]+-[a-z]|E[0-9]{4}|IMPL-[0-9]+)\]`).FindAllStringSubmatch(string(spec), -1)
	if len(ids) < 100 {
		t.Fatalf("found only %d IDs in the spec: is the pattern right?", len(ids))
	}
	word := regexp.MustCompile(`[0-9A-Za-z.-]+`)
	present := map[string]bool{}
	for _, w := range word.FindAllString(string(table), -1) {
		present[strings.TrimRight(w, ".")] = true
	}
	missing := map[string]bool{}
	for _, m := range ids {
		if !present[m[1]] {
			missing[m[1]] = true
		}
	}
	for id := range missing {
		t.Errorf("docs/CONFORMANCE.md does not mention %s", id)
	}
}

// Every test the conformance table cites exists, so a renamed or deleted
// test cannot leave a claim behind.
func TestConformanceTestsExist(t *testing.T) {
	table, err := os.ReadFile("CONFORMANCE.md")
	if err != nil {
		t.Fatal(err)
	}
	dirs := map[string]string{
		"vrrp": "../vrrp", "fsm": "../fsm", "sim": "../sim", "linux": "../internal/linux", "e2e": "../test/e2e",
		"config": "../internal/config", "metrics": "../internal/metrics", "daemon": "../internal/daemon", "docs": ".",
		"interop": "../test/interop", "govrrp": "../cmd/govrrp", "snmp": "../internal/snmp", "agentx": "../internal/agentx",
	}
	refs := regexp.MustCompile("`([a-z0-9]+):((?:Test|Fuzz)[A-Za-z0-9_]+)").FindAllStringSubmatch(string(table), -1)
	if len(refs) < 50 {
		t.Fatalf("found only %d test references", len(refs))
	}
	sources := map[string]string{}
	for _, ref := range refs {
		pkg, name := ref[1], ref[2]
		if pkg == "package" { // the legend: `package:TestName/case`
			continue
		}
		dir, ok := dirs[pkg]
		if !ok {
			t.Errorf("unknown package %q in `%s:%s`", pkg, pkg, name)
			continue
		}
		if _, done := sources[pkg]; !done {
			files, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
			var b strings.Builder
			for _, f := range files {
				src, _ := os.ReadFile(f)
				b.Write(src)
			}
			sources[pkg] = b.String()
		}
		if !strings.Contains(sources[pkg], "func "+name+"(") {
			t.Errorf("docs/CONFORMANCE.md cites %s:%s, which does not exist", pkg, name)
		}
	}
}
