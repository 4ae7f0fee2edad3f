package chaos

import (
	"flag"
	"strings"
	"testing"
)

// A misspelt -cases name (CHAOSFLAGS="-cases partiton") ran nothing and
// passed: make chaos said all was well without checking a promise. It is
// refused, naming the cases there are; and the flag's help lists each.
func TestSelectCases(t *testing.T) {
	if _, err := selectCases("partition, partiton"); err == nil || !strings.Contains(err.Error(), `"partiton"`) || !strings.Contains(err.Error(), "kill9") {
		t.Fatalf("unknown case: %v", err)
	}
	got, err := selectCases(" kill9,partition ")
	if err != nil || len(got) != 2 || got[0].name != "partition" || got[1].name != "kill9" {
		t.Fatalf("two cases, in report order: %v %v", got, err)
	}
	if all, err := selectCases(""); err != nil || len(all) != len(cases) {
		t.Fatalf("all cases: %d of %d, %v", len(all), len(cases), err)
	}
	usage := flag.Lookup("cases").Usage
	for _, c := range cases {
		if !strings.Contains(usage, c.name) {
			t.Errorf("-cases help does not list %s: %s", c.name, usage)
		}
	}
}
