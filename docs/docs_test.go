// Package docs holds checks that keep the documentation true to the code
// and the spec.
package docs

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
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

// Every test the conformance table cites exists, subtests included, so a
// renamed or deleted test or table case cannot leave a claim behind. A
// subtest is found in the test's source, not by running it (the namespace
// suites need root and minutes): each level of `Top/sub/case` must be a
// string constant written in Top (or in a package-level table it names),
// as `go test` prints it (spaces as _). "…/case" continues the latest
// citation that named a subtest; a trailing * matches a prefix.
func TestConformanceTestsExist(t *testing.T) {
	table, err := os.ReadFile("CONFORMANCE.md")
	if err != nil {
		t.Fatal(err)
	}
	dirs := map[string]string{
		"vrrp": "../vrrp", "fsm": "../fsm", "sim": "../sim", "linux": "../internal/linux", "e2e": "../test/e2e",
		"config": "../internal/config", "metrics": "../internal/metrics", "daemon": "../internal/daemon", "docs": ".",
		"interop": "../test/interop", "govrrp": "../cmd/govrrp", "snmp": "../internal/snmp", "agentx": "../internal/agentx",
		"bfd": "../bfd", "bfdsession": "../bfd/session", "bfdrun": "../internal/bfdrun",
	}
	refs := regexp.MustCompile("`(?:([a-z0-9]+):((?:Test|Fuzz)[A-Za-z0-9_]+)|…)(/[^`]*)?`").FindAllStringSubmatch(string(table), -1)
	if len(refs) < 50 {
		t.Fatalf("found only %d test references", len(refs))
	}
	pkgs := map[string]map[string]*testSource{}
	var lastPkg, lastTop string // the latest citation with a subtest, for "…/"
	subs := 0
	for _, ref := range refs {
		pkg, name, sub := ref[1], ref[2], strings.TrimPrefix(ref[3], "/")
		if pkg == "" { // …/case
			if lastTop == "" || sub == "" {
				t.Errorf("docs/CONFORMANCE.md: %s follows no citation of a subtest", ref[0])
				continue
			}
			pkg, name = lastPkg, lastTop
		}
		if sub != "" {
			lastPkg, lastTop = pkg, name
		}
		if pkg == "package" { // the legend: `package:TestName/case`, `…/case`
			continue
		}
		dir, ok := dirs[pkg]
		if !ok {
			t.Errorf("unknown package %q in %s", pkg, ref[0])
			continue
		}
		if pkgs[pkg] == nil {
			pkgs[pkg] = testSources(t, dir)
		}
		src := pkgs[pkg][name]
		if src == nil {
			t.Errorf("docs/CONFORMANCE.md cites %s:%s, which does not exist", pkg, name)
			continue
		}
		if sub != "" {
			subs++
			if !src.has(sub) {
				t.Errorf("docs/CONFORMANCE.md cites %s:%s/%s: %s has no such subtest (none of its names reads %q)", pkg, name, sub, name, sub)
			}
		}
	}
	if subs < 50 {
		t.Fatalf("found only %d subtest references", subs)
	}
}

// testSource is what a test function's source can name its subtests with:
// the string constants written in it or in the package-level declarations
// it refers to, as go test prints them.
type testSource struct{ names map[string]bool }

// has reports whether sub, a subtest path as go test prints it, is a path of
// names the source holds. A name may itself contain "/" (an address with
// its prefix length): any grouping of the levels will do.
func (s *testSource) has(sub string) bool {
	if prefix, ok := strings.CutSuffix(sub, "*"); ok {
		for n := range s.names {
			if strings.HasPrefix(n, prefix) {
				return true
			}
		}
		return false
	}
	if s.names[sub] {
		return true
	}
	for i := range len(sub) {
		if sub[i] == '/' && s.names[sub[:i]] && s.has(sub[i+1:]) {
			return true
		}
	}
	return false
}

// testSources parses the _test.go files of dir: each Test or Fuzz function
// with its testSource.
func testSources(t *testing.T, dir string) map[string]*testSource {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
	fset := token.NewFileSet()
	var decls []ast.Decl
	for _, f := range files {
		af, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		decls = append(decls, af.Decls...)
	}
	// The string constants of each package-level declaration, by name.
	global := map[string][]string{}
	for _, d := range decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok {
			continue
		}
		for _, spec := range gd.Specs {
			if vs, ok := spec.(*ast.ValueSpec); ok {
				for _, n := range vs.Names {
					for _, v := range vs.Values {
						global[n.Name] = append(global[n.Name], stringConsts(v)...)
					}
				}
			}
		}
	}
	out := map[string]*testSource{}
	for _, d := range decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Recv != nil || fd.Body == nil || !(strings.HasPrefix(fd.Name.Name, "Test") || strings.HasPrefix(fd.Name.Name, "Fuzz")) {
			continue
		}
		src := &testSource{names: map[string]bool{}}
		add := func(ss []string) {
			for _, s := range ss {
				src.names[subtestName(s)] = true
			}
		}
		add(stringConsts(fd.Body))
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok {
				add(global[id.Name])
			}
			return true
		})
		out[fd.Name.Name] = src
	}
	return out
}

// stringConsts returns the string constants in n: literals, and sums of
// literals ("a " + "b") whole.
func stringConsts(n ast.Node) []string {
	var out []string
	var fold func(e ast.Expr) (string, bool)
	fold = func(e ast.Expr) (string, bool) {
		switch e := e.(type) {
		case *ast.BasicLit:
			if e.Kind == token.STRING {
				s, err := strconv.Unquote(e.Value)
				return s, err == nil
			}
		case *ast.ParenExpr:
			return fold(e.X)
		case *ast.BinaryExpr:
			if e.Op == token.ADD {
				x, ok1 := fold(e.X)
				y, ok2 := fold(e.Y)
				return x + y, ok1 && ok2
			}
		}
		return "", false
	}
	ast.Inspect(n, func(n ast.Node) bool {
		if e, ok := n.(ast.Expr); ok {
			if s, ok := fold(e); ok {
				out = append(out, s)
			}
		}
		return true
	})
	return out
}

// subtestName is name as go test prints it: spaces as _, other
// unprintable runes quoted (testing.rewrite).
func subtestName(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case unicode.IsSpace(r):
			b.WriteByte('_')
		case !strconv.IsPrint(r):
			s := strconv.QuoteRune(r)
			b.WriteString(s[1 : len(s)-1])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
