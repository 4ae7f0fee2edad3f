package debpkg

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"govrrp/internal/config"
	"govrrp/internal/daemoncli"
	"govrrp/internal/testenv"
)

// withGroup is this machine, on which the package has created its group.
type withGroup struct{ config.System }

func (h withGroup) Group(name string) error {
	if name == Group {
		return nil
	}
	return h.System.Group(name)
}

// The shipped /etc/govrrp/govrrpd.yaml passes govrrp validate's checks on a
// host with the package's group, gives the socket to that group, and can
// add no address to this host: its routers' interfaces do not exist (the
// only warnings), so a govrrpd started on it as shipped waits in Fault.
func TestSampleConfig(t *testing.T) {
	c, warns, err := config.LoadAndCheck("../../dist/govrrpd.yaml", withGroup{})
	if err != nil {
		t.Fatal(err)
	}
	if c.ControlGroup != Group {
		t.Errorf("control_group %q, want %q (the unit's SupplementaryGroups, postinst's group)", c.ControlGroup, Group)
	}
	ifs, err := config.System{}.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range c.Routers {
		if slices.ContainsFunc(ifs, func(i config.Interface) bool { return i.Name == r.Interface }) {
			t.Errorf("router %s runs on %s, an interface of this host", r.Name, r.Interface)
		}
	}
	for _, w := range warns {
		if !strings.Contains(w.Error(), "no such interface") {
			t.Errorf("warning: %v", w)
		}
	}
}

// unit reads the values of a key of a systemd unit file.
func unit(t *testing.T, path, key string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var vals []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+"="); ok {
			vals = append(vals, v)
		}
	}
	return vals
}

// The unit's sandbox as issue 15 asks: two capabilities, read-only but
// what govrrpd writes, a private /tmp, no writable executable memory, the
// group of the control socket, long flags, and a stop timeout covering the
// hooks' at the default notify_timeout.
func TestUnit(t *testing.T) {
	const path = "../../dist/govrrpd.service"
	for key, want := range map[string]string{
		"CapabilityBoundingSet":  "CAP_NET_ADMIN CAP_NET_RAW",
		"AmbientCapabilities":    "CAP_NET_ADMIN CAP_NET_RAW",
		"ProtectSystem":          "strict",
		"ReadWritePaths":         "/run /proc/sys/net",
		"PrivateTmp":             "yes",
		"MemoryDenyWriteExecute": "yes",
		"NoNewPrivileges":        "yes",
		"SupplementaryGroups":    Group,
		"ExecStart":              "/usr/sbin/govrrpd --config " + Conffile,
		"ExecStartPre":           "/usr/sbin/govrrpd --check --config " + Conffile,
		"KillMode":               "mixed",
		"TimeoutStopSec":         daemoncli.StopTimeout(config.DefaultNotifyTimeout).String(),
	} {
		got := unit(t, path, key)
		if key == "TimeoutStopSec" && len(got) == 1 {
			d, err := time.ParseDuration(got[0])
			if err == nil {
				got[0] = d.String()
			}
		}
		if !slices.Equal(got, []string{want}) {
			t.Errorf("%s=%q, want %q", key, got, want)
		}
	}
}

// Every file the package takes from the repository exists.
func TestFiles(t *testing.T) {
	root, _ := filepath.Abs("../..")
	o := Options{Root: root, BinDir: "/bin-dir", Stage: "/stage-dir"}
	for _, f := range Files(o) {
		if strings.HasPrefix(f.Src, "/bin-dir") || strings.HasPrefix(f.Src, "/stage-dir") {
			continue
		}
		if st, err := os.Stat(f.Src); err != nil || st.Size() == 0 {
			t.Errorf("%s: source %s: %v", f.Dst, f.Src, err)
		}
	}
}

var (
	// installedDoc is a path under the package's documentation.
	installedDoc = regexp.MustCompile(`/usr/share/doc/govrrp/[\w./-]*[\w/]`)
	// repoPath is a path that exists only in a checkout of the source.
	repoPath = regexp.MustCompile(`(^|[\s(])((docs|dist|cmd|internal|test)/[\w./-]*\w)`)
)

// The files a user reads on an installed system (the man pages, and so
// govrrp's and govrrpd's help; the sample configuration, the unit and the
// drop-in) name files by their installed paths, and the package ships each
// one: no docs/X.md or cmd/.../testdata that only a checkout has.
func TestReferencesShipped(t *testing.T) {
	root, _ := filepath.Abs("../..")
	shipped := map[string]bool{}
	for _, f := range Files(Options{}) {
		shipped[f.Dst] = true
	}
	texts := []string{"dist/man/govrrpd.8", "dist/man/govrrp.8", "dist/man/govrrpd.yaml.5", "dist/govrrpd.yaml", "dist/govrrpd.service", "dist/relax-sandbox.conf"}
	for _, p := range texts {
		b, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, `.\"`) {
				continue // a roff comment: not shown
			}
			for _, m := range repoPath.FindAllStringSubmatch(l, -1) {
				t.Errorf("%s:%d names %s, a path of the source tree: name its installed path under /usr/share/doc/%s", p, i+1, m[2], Name)
			}
			for _, ref := range installedDoc.FindAllString(l, -1) {
				if !shipped[ref] && !shipped[strings.TrimSuffix(ref, "/")+"/README.md"] {
					t.Errorf("%s:%d names %s, which the package does not ship", p, i+1, ref)
				}
			}
		}
	}
}

// scripts/version.sh: the Debian version from the git tags (issue 15): the
// tag's at the tag, tag+N.gHASH after it, .dirty with changes, and each
// later one sorts after the one before for dpkg.
func TestVersionScript(t *testing.T) {
	testenv.RequireTool(t, "git")
	script, _ := filepath.Abs("../../scripts/version.sh")
	dir := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t",
			"GIT_AUTHOR_DATE=2026-12-01T00:00:00Z", "GIT_COMMITTER_DATE=2026-12-01T00:00:00Z", "GIT_CONFIG_GLOBAL=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	version := func(what string) string {
		t.Helper()
		cmd := exec.Command(script, what)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("version.sh %s: %v", what, err)
		}
		return strings.TrimSpace(string(out))
	}
	write := func(s string) { os.WriteFile(filepath.Join(dir, "f"), []byte(s), 0o644) }
	git("init", "-q")
	write("1")
	git("add", "f")
	git("commit", "-qm", "one")
	var got []string
	got = append(got, version("version"))
	git("tag", "v0.2.0")
	got = append(got, version("version"))
	write("2")
	git("commit", "-qam", "two")
	got = append(got, version("version"))
	write("3")
	got = append(got, version("version"))
	h := git("rev-parse", "--short=7", "HEAD")
	want := []string{"0.0.0+1.g" + git("rev-parse", "--short=7", "HEAD~1"), "0.2.0", "0.2.0+1.g" + h, "0.2.0+1.g" + h + ".dirty"}
	if !slices.Equal(got, want) {
		t.Fatalf("versions %q, want %q", got, want)
	}
	if c := version("commit"); c != git("rev-parse", "HEAD") {
		t.Errorf("commit %s", c)
	}
	if d := version("date"); d != "2026-12-01T00:00:00Z" {
		t.Errorf("date %s, want the commit's", d)
	}
	if dpkg, err := exec.LookPath("dpkg"); err == nil {
		for i := 1; i < len(got); i++ {
			if err := exec.Command(dpkg, "--compare-versions", got[i-1], "lt", got[i]).Run(); err != nil {
				t.Errorf("dpkg: %s is not older than %s", got[i-1], got[i])
			}
		}
	}
}
