// Package docs holds checks that keep the documentation true to the code
// and the spec.
package docs

import (
	"os"
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
