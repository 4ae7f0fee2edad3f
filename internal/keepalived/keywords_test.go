package keepalived

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportCorpusKeywords: every keyword of keepalived.conf(5)'s global
// and VRRP sections, and the sections themselves ("toplevel"),
// (testdata/keywords.txt, made from keepalived 2.2.7's man page by
// testdata/keywords.sh) is used, in its section, by at least one file of the
// import corpus; so TestImportGolden shows what the import makes of each:
// translated, or a note saying why not. A keyword in the corpus that only
// got a section's catch-all note ("... not translated") fails too: each
// needs its own answer.
func TestImportCorpusKeywords(t *testing.T) {
	want := readKeywords(t, "testdata/keywords.txt")
	files, _ := filepath.Glob("testdata/import/*.conf")
	type use struct {
		pos  Pos
		note string
	}
	seen := map[string][]use{} // "section keyword" -> where
	for _, f := range files {
		toks, _, err := Read(f, Options{ConfigID: "lb1"})
		if err != nil {
			t.Fatal(err)
		}
		nodes, _ := Parse(toks)
		res, err := Import(f, Options{ConfigID: "lb1"})
		if err != nil {
			t.Fatal(err)
		}
		notes := map[Pos]string{}
		for _, n := range res.Notes {
			notes[n.Pos] = n.Why
		}
		for _, sec := range nodes {
			seen["toplevel "+sec.Key] = append(seen["toplevel "+sec.Key], use{sec.Pos, notes[sec.Pos]})
			name := sec.Key
			if name == "vrrp_track_file" {
				name = "track_file"
			}
			for _, c := range sec.Children {
				k := name + " " + c.Key
				seen[k] = append(seen[k], use{c.Pos, notes[c.Pos]})
				if c.Key == "authentication" {
					// auth_type and auth_pass are keywords of this block.
					for _, a := range c.Children {
						k := name + " " + a.Key
						seen[k] = append(seen[k], use{a.Pos, notes[a.Pos]})
					}
				}
			}
		}
	}
	catchAll := []string{"global setting not translated", "keyword not translated (govrrp has no equivalent", "vrrp_script setting not translated", "track_file setting not translated", "section not translated (govrrp has no equivalent", "bfd_instance setting not translated"}
	for _, k := range want {
		uses := seen[k]
		if len(uses) == 0 {
			t.Errorf("%s: not in any testdata/import/*.conf: add a line using it", k)
			continue
		}
		for _, u := range uses {
			for _, c := range catchAll {
				if strings.Contains(u.note, c) {
					t.Errorf("%s at %s: only the catch-all note %q: translate it or say why not", k, u.pos, u.note)
				}
			}
		}
	}
}

// readKeywords reads "SECTION KEYWORD" lines, skipping # comments.
func readKeywords(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var l []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if len(strings.Fields(line)) != 2 {
			t.Fatalf("%s: %q is not SECTION KEYWORD", path, line)
		}
		l = append(l, strings.Join(strings.Fields(line), " "))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(l) == 0 {
		t.Fatalf("%s: no keywords", path)
	}
	return l
}
