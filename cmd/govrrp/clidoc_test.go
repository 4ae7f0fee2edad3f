package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"govrrp/internal/clidoc"
	"govrrp/internal/testenv"
)

func docCommands() []clidoc.Command {
	out := make([]clidoc.Command, len(commands))
	for i, c := range commands {
		out[i] = clidoc.Command{Name: c.name, Summary: c.summary, Usage: c.usage}
	}
	return out
}

// govrrp(8) and the bash and zsh completions are the command table and the
// usages of `govrrp help COMMAND` (issue 15): a command or flag added
// without -update (which also rewrites the golden files) fails here.
func TestGenerated(t *testing.T) {
	cmds := docCommands()
	for path, want := range map[string]string{
		"../../dist/man/govrrp.8":           clidoc.Govrrp(cmds, globalUsage),
		"../../dist/completion/govrrp.bash": clidoc.Bash(cmds, globalUsage),
		"../../dist/completion/_govrrp":     clidoc.Zsh(cmds, globalUsage),
	} {
		if err := clidoc.Compare(path, want, *update); err != nil {
			t.Error(err)
		}
	}
}

// The page renders without a groff warning; the completions parse in bash
// and zsh, and bash completes a command and a command's flag.
func TestGeneratedWork(t *testing.T) {
	cmds := docCommands()
	testenv.RequireTool(t, "groff")
	g := exec.Command("groff", "-man", "-Tutf8", "-ww", "-z")
	g.Stdin = strings.NewReader(clidoc.Govrrp(cmds, globalUsage))
	if out, err := g.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("groff: %v\n%s", err, out)
	}
	testenv.RequireTool(t, "bash")
	bashFile := filepath.Join(t.TempDir(), "govrrp.bash")
	os.WriteFile(bashFile, []byte(clidoc.Bash(cmds, globalUsage)), 0o644)
	for line, want := range map[string]string{
		"govrrp val":                          "validate",
		"govrrp -s /x sta":                    "status",
		"govrrp validate --no":                "--no-host",
		"govrrp help sim":                     "simulate",
		"govrrp status --j":                   "--json",
		"govrrp log-level w":                  "warn",
		"govrrp import k":                     "keepalived",
		"govrrp import keepalived /etc/hostn": "/etc/hostname",
	} {
		words := strings.Fields(line)
		script := ". " + bashFile + "; COMP_WORDS=(" + line + "); COMP_CWORD=" + string(rune('0'+len(words)-1)) + "; _govrrp; echo ${COMPREPLY[@]}"
		out, err := exec.Command("bash", "-c", script).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("%q completes to %q (%v), want %q", line, out, err, want)
		}
	}
	zsh := testenv.RequireTool(t, "zsh")
	if out, err := exec.Command(zsh, "-n", "../../dist/completion/_govrrp").CombinedOutput(); err != nil {
		t.Errorf("zsh -n: %v\n%s", err, out)
	}
}
