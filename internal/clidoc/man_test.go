package clidoc

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"govrrp/internal/config"
	"govrrp/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the man pages under dist/man")

// The pages of govrrpd and of its configuration are the flag table and the
// schema's reference; a change to either without -update fails here.
func TestGenerated(t *testing.T) {
	example, err := os.ReadFile("../config/testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, page := range map[string]string{"govrrpd.8": Govrrpd(), "govrrpd.yaml.5": Config(config.Reference(string(example)))} {
		if err := Compare(filepath.Join("../../dist/man", name), page, *update); err != nil {
			t.Error(err)
		}
	}
}

// Every key of the schema is in govrrpd.yaml(5), and groff renders the pages
// without a warning.
func TestManPageContents(t *testing.T) {
	example, _ := os.ReadFile("../config/testdata/full.yaml")
	page := Config(config.Reference(string(example)))
	for _, k := range config.Schema {
		if !strings.Contains(page, ".TP\n\\fB"+strings.ReplaceAll(k.Path, "-", `\-`)+"\\fR\n") {
			t.Errorf("govrrpd.yaml(5) lacks key %s", k.Path)
		}
	}
	testenv.RequireTool(t, "groff")
	for name, p := range map[string]string{"govrrpd.8": Govrrpd(), "govrrpd.yaml.5": page} {
		cmd := exec.Command("groff", "-man", "-Tutf8", "-ww", "-z")
		cmd.Stdin = strings.NewReader(p)
		if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("groff %s: %v\n%s", name, err, out)
		}
	}
}
