package yamlwalk

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// walk decodes in and runs fn on its root, returning the errors' text.
func walk(t *testing.T, in string, fn func(w *Walker, root *yaml.Node)) string {
	t.Helper()
	w := &Walker{File: "f.yaml", Reader: "the test"}
	if root, extra := w.Decode([]byte(in), "write something"); root != nil {
		fn(w, root)
		extra()
	}
	if w.Errs.Len() == 0 {
		return ""
	}
	return w.Errs.Error()
}

func TestWalker(t *testing.T) {
	keys := []string{"priority", "interval", "enabled"}
	for _, tc := range []struct {
		name, in, want string
		fn             func(w *Walker, root *yaml.Node)
	}{
		{"did you mean", "priorty: 1", `f.yaml:1:1: unknown key "priorty" in the test; did you mean "priority"?`, nil},
		{"valid keys", "zzz: 1", `f.yaml:1:1: unknown key "zzz" in the test; remove it; valid keys here: priority, interval, enabled`, nil},
		{"twice", "priority: 1\npriority: 2", `f.yaml:2:1: "priority" is set twice; keep one of them (the first is at line 1)`, nil},
		{"not a mapping", "[1]", "f.yaml:1:1: the test must be a mapping, not a list; write `key: value` lines indented below it", nil},
		{"range", "priority: 300", "f.yaml:1:11: 300 is out of range 1..255; write 1..255", nil},
		{"unit", "interval: 5", "f.yaml:1:11: 5 has no unit; write 5s (or 5ms)", nil},
		{"duration range", "interval: 2h", "f.yaml:1:11: 2h0m0s is out of range; write 0s..1h0m0s", nil},
		{"bool", "enabled: yes", `f.yaml:1:10: expected true or false, got "yes"; write true or false`, nil},
		{"empty", "", "f.yaml:1:1: the file is empty; write something", nil},
		{"syntax", "a: [", "f.yaml:1:1: YAML syntax near here: did not find expected node content; check the indentation and quoting there", nil},
		{"second document", "priority: 1\n---\nenabled: true", "f.yaml:2:1: a second YAML document starts here; the test reads only one; keep one document: remove the --- line and merge what follows it", nil},
		{"aliases", "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]",
			"f.yaml:1:1: YAML aliases add more than 100000 nodes to the file; write the values out, or use fewer aliases (*name)", nil},
		{"any key", "whatever: 1", "", func(w *Walker, root *yaml.Node) { w.Mapping(root, "names", nil, func(k, v *yaml.Node) {}) }},
		{"addresses", "[10.77.0.1/24, fd77::1, x, 10.77.0.300/24]", `f.yaml:1:25: "x" is not an IP address; write an address such as 10.77.0.2 or fd77::2
f.yaml:1:28: "10.77.0.300/24" is not an address/prefix; write address/prefix-length, e.g. 10.77.0.254/24 or fd77::254/64`,
			func(w *Walker, root *yaml.Node) {
				for _, n := range w.Seq(root, "addresses") {
					w.Prefix(n)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fn := tc.fn
			if fn == nil {
				fn = func(w *Walker, root *yaml.Node) {
					w.Mapping(root, "the test", keys, func(k, v *yaml.Node) {
						switch k.Value {
						case "priority":
							w.Int(v, 1, 255, "write 1..255")
						case "interval":
							w.Duration(v, 0, time.Hour)
						case "enabled":
							w.Bool(v)
						}
					})
				}
			}
			if got := walk(t, tc.in, fn); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// Errors keeps MaxErrors and counts the rest; each text is clipped.
func TestErrorsBounded(t *testing.T) {
	var es Errors
	for i := range MaxErrors + 7 {
		es.Add(&Error{Pos: Pos{"f", i + 1, 1}, What: Clip(strings.Repeat("x", 1000))})
	}
	if es.Len() != MaxErrors+7 || len(es.List) != MaxErrors || !strings.HasSuffix(es.Error(), "\nand 7 more") {
		t.Errorf("len %d, kept %d", es.Len(), len(es.List))
	}
	if got := len(es.List[0].What); got != maxText+len("…") {
		t.Errorf("clipped to %d bytes", got)
	}
	if s := es.Summary(2); !strings.HasPrefix(s, fmt.Sprintf("%d errors: f:1:1: x", MaxErrors+7)) || !strings.HasSuffix(s, "| and 55 more") {
		t.Errorf("summary %q", s)
	}
}

func TestClosest(t *testing.T) {
	for _, tc := range []struct{ s, want string }{
		{"advert_intervall", "advert_interval"}, {"prio", ""}, {"vird", ""}, {"vridd", "vrid"}, {"x", ""},
	} {
		if got := Closest(tc.s, []string{"advert_interval", "priority", "vrid"}); got != tc.want {
			t.Errorf("Closest(%q) = %q, want %q", tc.s, got, tc.want)
		}
	}
}
