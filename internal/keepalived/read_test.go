package keepalived

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"govrrp/internal/config"
)

// memFS is a file system for Read in tests.
type memFS map[string]string

func (m memFS) opts(id string) Options {
	return Options{
		ConfigID: id,
		ReadFile: func(p string) ([]byte, error) {
			if s, ok := m[p]; ok {
				return []byte(s), nil
			}
			return nil, os.ErrNotExist
		},
		Glob: func(pat string) ([]string, error) {
			var out []string
			for p := range m {
				if ok, _ := filepath.Match(pat, p); ok {
					out = append(out, p)
				}
			}
			return out, nil
		},
	}
}

// flat renders statements as "key args{children}" with positions, to compare.
func flat(ns []*Node) string {
	var b strings.Builder
	for _, n := range ns {
		b.WriteString(n.Pos.String() + " " + strings.Join(append([]string{n.Key}, n.Args...), "|"))
		if n.Block {
			b.WriteString("{" + flat(n.Children) + "}")
		}
		b.WriteString(";")
	}
	return b.String()
}

func TestRead(t *testing.T) {
	for _, tc := range []struct {
		name, conf, id, want string
	}{
		{"comments", "a 1 ! x\nb \"x # y\" # z\n# c\n", "", "/c:1 a|1;/c:2 b|x # y;"},
		{"quoted brace is a word", "s \"{\"\n", "", "/c:1 s|{;"},
		{"block over lines", "v x {\n a\n b { c }\n}\n", "", "/c:1 v|x{/c:2 a;/c:3 b{/c:3 c;};};"},
		{"block on the next line", "v x\n{\n a\n}\n", "", "/c:1 v|x{/c:3 a;};"},
		{"config id match", "@lb1 p 1\n@lb2 p 2\n", "lb1", "/c:1 p|1;"},
		{"config id negated", "@^lb1 p 1\n@^lb2 p 2\n", "lb1", "/c:2 p|2;"},
		{"no config id", "@lb1 p 1\n@^lb1 p 2\n", "", "/c:2 p|2;"},
		{"parameters", "$A=1\np $A\nq ${A}0\nr $B ${B}\n", "", "/c:2 p|1;/c:3 q|10;/c:4 r|$B|${B};"},
		{"late binding", "$X=a${Y}\n$Y=1\np ${X}\n$Y=2\np ${X}\n", "", "/c:3 p|a1;/c:5 p|a2;"},
		{"conditional definition", "@lb1 $P=9\n@^lb1 $P=1\np $P\n", "lb1", "/c:3 p|9;"},
		{"parameter holding a condition", "$M=@lb2\n$M p 1\np 2\n", "lb1", "/c:3 p|2;"},
		{"multi-line parameter", "$I= \\\nv ${N} { \\\n a \\\n}\n$N=1\n$I\n", "", "/c:6 v|1{/c:6 a;};"},
		{"hash parameter", "p a${_HASH}b\n", "", "/c:1 p|a#b;"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := readClean(t, memFS{"/c": tc.conf}, tc.id); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// readClean reads /c and parses it into flat's form, failing the test on
// an error or a note.
func readClean(t *testing.T, fs memFS, id string) string {
	t.Helper()
	toks, notes, err := Read("/c", fs.opts(id))
	if err != nil {
		t.Fatal(err)
	}
	nodes, more := Parse(toks)
	if len(notes)+len(more) > 0 {
		t.Errorf("notes: %v %v", notes, more)
	}
	return flat(nodes)
}

func TestReadInclude(t *testing.T) {
	fs := memFS{
		"/etc/k/keepalived.conf": "a 1\ninclude conf.d/*.conf\nb 2\n",
		"/etc/k/conf.d/x.conf":   "x 1\ninclude ../more/y\n",
		"/etc/k/conf.d/w.conf":   "w 1\n",
		"/etc/k/more/y":          "y 1\n",
	}
	toks, notes, err := Read("/etc/k/keepalived.conf", fs.opts(""))
	if err != nil || len(notes) > 0 {
		t.Fatal(err, notes)
	}
	nodes, _ := Parse(toks)
	want := "/etc/k/keepalived.conf:1 a|1;/etc/k/conf.d/w.conf:1 w|1;/etc/k/conf.d/x.conf:1 x|1;/etc/k/more/y:1 y|1;/etc/k/keepalived.conf:3 b|2;"
	if got := flat(nodes); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestReadLimits(t *testing.T) {
	loop := memFS{"/a": "include /a\n"}
	_, _, err := Read("/a", loop.opts(""))
	var re *ReadError
	if !errors.As(err, &re) || !strings.Contains(re.What, "levels") {
		t.Errorf("include loop: %v", err)
	}
	self := memFS{"/a": "$A=${A}${A}\np $A\n"}
	if _, _, err := Read("/a", self.opts("")); !errors.As(err, &re) {
		t.Errorf("self-referencing parameter: %v", err)
	}
	missing := memFS{"/a": "include /nope/*.conf\np 1\n"}
	toks, notes, err := Read("/a", missing.opts(""))
	if err != nil || len(notes) != 1 || len(toks) != 2 {
		t.Errorf("missing include: %v %v %v", toks, notes, err)
	}
}

func TestParseUnbalanced(t *testing.T) {
	for _, conf := range []string{"v {\n a\n", "a\n}\n", "{\n}\n"} {
		toks, _, _ := Read("/c", memFS{"/c": conf}.opts(""))
		if _, notes := Parse(toks); len(notes) == 0 {
			t.Errorf("%q: no note", conf)
		}
	}
}

// FuzzImport: any input is read, parsed and translated without panicking,
// and whatever YAML comes out passes govrrpd's checks.
func FuzzImport(f *testing.F) {
	files, _ := filepath.Glob("testdata/import/*.conf")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(string(b), "lb1")
	}
	f.Fuzz(func(t *testing.T, conf, id string) {
		opt := memFS{"/k.conf": conf, "/inc.conf": "p 1\n"}.opts(id)
		toks, _, err := Read("/k.conf", opt)
		if err != nil {
			return
		}
		nodes, _ := Parse(toks)
		res := Translate(nodes, "/k.conf", id)
		if (res.Routers == 0) != (len(res.YAML) == 0) {
			t.Fatalf("routers %d, yaml %d bytes", res.Routers, len(res.YAML))
		}
		if res.Routers > 0 {
			if _, err := config.Parse("out.yaml", res.YAML); err != nil {
				t.Fatalf("invalid YAML: %v\n%s", err, res.YAML)
			}
		}
	})
}
