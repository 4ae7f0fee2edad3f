// Package pkg checks the Debian package of `make package` (issue 15): lintian
// finds no error, the files dpkg-deb -x unpacks are the ones meant with their
// modes, the binaries are static, and (as root under CI=true) installing it,
// running the installed govrrpd in a network namespace and purging it leaves
// nothing behind: no file, no group, no enablement link.
package pkg

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"govrrp/internal/daemoncli"
	"govrrp/internal/debpkg"
	"govrrp/internal/lab"
	"govrrp/internal/lab/govrrpd"
	"govrrp/internal/testenv"
)

// The version the test builds: a valid Debian version that sorts before any
// release, so it is never mistaken for one.
const testVersion = "0.0.0~pkgtest"

// build builds the static binaries and the package into dir, as make
// package does, and returns the .deb's path.
func build(t *testing.T, dir string) string {
	t.Helper()
	root, _ := filepath.Abs("../..")
	bin := filepath.Join(dir, "bin")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X govrrp/internal/version.Version="+testVersion,
		"-o", bin+"/", "./cmd/govrrpd", "./cmd/govrrp")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	deb := filepath.Join(dir, "govrrp.deb")
	f, err := os.Create(deb)
	if err != nil {
		t.Fatal(err)
	}
	o := debpkg.Options{Version: testVersion, Commit: "0123456789abcdef", Arch: "amd64", Root: root, BinDir: bin,
		Stage: filepath.Join(dir, "stage"), MTime: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	if err := debpkg.Build(o, f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return deb
}

func TestPackage(t *testing.T) {
	testenv.RequireTool(t, "dpkg-deb")
	lintian := testenv.RequireTool(t, "lintian")
	if a, _ := exec.Command("dpkg", "--print-architecture").Output(); strings.TrimSpace(string(a)) != "amd64" {
		t.Skip("the test builds for amd64")
	}
	dir := t.TempDir()
	deb := build(t, dir)

	t.Run("lintian", func(t *testing.T) {
		out, _ := exec.Command(lintian, "--tag-display-limit", "0", deb).CombinedOutput()
		for _, l := range strings.Split(string(out), "\n") {
			switch {
			case strings.HasPrefix(l, "E: "):
				t.Errorf("lintian: %s", l)
			case strings.HasPrefix(l, "W: "):
				t.Logf("lintian: %s", l)
			}
		}
	})

	t.Run("contents", func(t *testing.T) {
		x := filepath.Join(dir, "x")
		if out, err := exec.Command("dpkg-deb", "-x", deb, x).CombinedOutput(); err != nil {
			t.Fatalf("dpkg-deb -x: %v\n%s", err, out)
		}
		want := map[string]fs.FileMode{}
		for _, f := range debpkg.Files(debpkg.Options{}) {
			want[f.Dst] = f.Mode
		}
		got := map[string]fs.FileMode{}
		filepath.WalkDir(x, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				st, _ := d.Info()
				got[strings.TrimPrefix(p, x)] = st.Mode()
			}
			return err
		})
		for p, m := range want {
			if got[p] != m {
				t.Errorf("%s: mode %v, want %v", p, got[p], m)
			}
		}
		for p := range got {
			if _, ok := want[p]; !ok {
				t.Errorf("unexpected file %s", p)
			}
		}
		for _, p := range []string{"/usr/sbin/govrrpd", "/usr/bin/govrrp"} {
			static(t, filepath.Join(x, p))
			out, err := exec.Command(filepath.Join(x, p), "--version").Output()
			if err != nil || !strings.Contains(string(out), " "+testVersion+" (commit ") {
				t.Errorf("%s --version: %q, %v", p, out, err)
			}
		}
		for _, p := range []string{"/usr/share/man/man8/govrrpd.8.gz", "/usr/share/man/man8/govrrp.8.gz", "/usr/share/man/man5/govrrpd.yaml.5.gz"} {
			b := gunzip(t, filepath.Join(x, p))
			if !bytes.Contains(b, []byte("\n.TH ")) {
				t.Errorf("%s is not a man page", p)
			}
		}
		ctl := filepath.Join(dir, "control")
		if out, err := exec.Command("dpkg-deb", "-e", deb, ctl).CombinedOutput(); err != nil {
			t.Fatalf("dpkg-deb -e: %v\n%s", err, out)
		}
		if c, _ := os.ReadFile(filepath.Join(ctl, "conffiles")); string(c) != debpkg.Conffile+"\n" {
			t.Errorf("conffiles %q, want %s", c, debpkg.Conffile)
		}
		for _, s := range []string{"postinst", "prerm", "postrm"} {
			if st, err := os.Stat(filepath.Join(ctl, s)); err != nil || st.Mode().Perm() != 0o755 {
				t.Errorf("%s: %v", s, err)
			}
		}
	})

	t.Run("install", func(t *testing.T) {
		testenv.RequireRoot(t)
		if !testenv.InCI() && os.Getenv("GOVRRP_PKG_INSTALL") != "1" {
			t.Skip("installs the package on this machine: only with CI=true or GOVRRP_PKG_INSTALL=1")
		}
		installCycle(t, deb)
	})
}

// static fails unless the ELF file has no interpreter and needs no shared
// library.
func static(t *testing.T, path string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("%s is dynamically linked (%v)", path, p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("%s needs %v", path, libs)
	}
}

func gunzip(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b, err := io.ReadAll(z)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b
}

// snapshotRoots are where the package or its scripts could leave something.
var snapshotRoots = []string{"/etc", "/usr/bin", "/usr/sbin", "/usr/lib/systemd", "/usr/share/doc", "/usr/share/man",
	"/usr/share/bash-completion", "/usr/share/zsh", "/usr/share/lintian", "/var/lib/systemd", "/var/lib/dpkg/info"}

// snapshot lists the paths under snapshotRoots.
func snapshot(t *testing.T) map[string]bool {
	t.Helper()
	m := map[string]bool{}
	for _, r := range snapshotRoots {
		filepath.WalkDir(r, func(p string, d fs.DirEntry, err error) error {
			if err == nil {
				m[p] = true
			}
			return nil
		})
	}
	return m
}

// groupLines returns the lines of /etc/group and /etc/gshadow naming group.
func groupLines(group string) []string {
	var out []string
	for _, f := range []string{"/etc/group", "/etc/gshadow"} {
		b, _ := os.ReadFile(f)
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), group+":") {
				out = append(out, f+": "+sc.Text())
			}
		}
	}
	return out
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// installCycle installs the package, checks and runs what it installed,
// purges it and compares the machine with before.
func installCycle(t *testing.T, deb string) {
	if exec.Command("dpkg-query", "-W", "-f=${Status}", debpkg.Name).Run() == nil {
		t.Fatalf("package %s is already known to dpkg here: the test would replace it", debpkg.Name)
	}
	if g := groupLines(debpkg.Group); len(g) > 0 {
		t.Fatalf("group %s exists before the install: %v", debpkg.Group, g)
	}
	before := snapshot(t)
	t.Cleanup(func() {
		// Also after a failure: the machine is left as it was.
		if exec.Command("dpkg-query", "-W", debpkg.Name).Run() == nil {
			exec.Command("dpkg", "--purge", debpkg.Name).Run()
		}
	})
	run(t, "dpkg", "-i", deb)

	if g := groupLines(debpkg.Group); len(g) != 2 {
		t.Errorf("after install, group %s: %v", debpkg.Group, g)
	}
	// As shipped: the configuration passes validate and --check, and
	// nothing runs (postinst starts nothing).
	run(t, "/usr/bin/govrrp", "validate", debpkg.Conffile)
	run(t, "/usr/sbin/govrrpd", "--check", "--config", debpkg.Conffile)
	if out, _ := exec.Command("pgrep", "-x", "govrrpd").Output(); len(out) > 0 {
		for _, pid := range strings.Fields(string(out)) {
			if exe, _ := os.Readlink("/proc/" + pid + "/exe"); exe == "/usr/sbin/govrrpd" {
				t.Errorf("the install started govrrpd (pid %s)", pid)
			}
		}
	}
	if sa, err := exec.LookPath("systemd-analyze"); err == nil {
		if out, err := exec.Command(sa, "verify", "/usr/lib/systemd/system/govrrpd.service").CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
		// The relaxing drop-in, as the administrator would add it: every
		// line is a setting systemd knows.
		units := t.TempDir()
		os.Mkdir(filepath.Join(units, "govrrpd.service.d"), 0o755)
		unitFile, _ := os.ReadFile("/usr/lib/systemd/system/govrrpd.service")
		dropIn, _ := os.ReadFile("/usr/share/doc/govrrp/examples/relax-sandbox.conf")
		os.WriteFile(filepath.Join(units, "govrrpd.service"), unitFile, 0o644)
		os.WriteFile(filepath.Join(units, "govrrpd.service.d", "relax-sandbox.conf"), dropIn, 0o644)
		v := exec.Command(sa, "verify", filepath.Join(units, "govrrpd.service"))
		v.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH="+units+":")
		if out, err := v.CombinedOutput(); err != nil || len(out) > 0 || len(dropIn) == 0 {
			t.Errorf("systemd-analyze verify with relax-sandbox.conf: %v\n%s", err, out)
		}
	}
	runInstalled(t)
	// An administrator enables it (without a running systemd, systemctl
	// only makes the links): the purge must remove them.
	if sc, err := exec.LookPath("systemctl"); err == nil {
		exec.Command(sc, "enable", "govrrpd.service").Run()
		if _, err := os.Lstat("/etc/systemd/system/multi-user.target.wants/govrrpd.service"); err != nil {
			t.Errorf("systemctl enable made no link: %v", err)
		}
	}

	run(t, "dpkg", "--purge", debpkg.Name)
	if g := groupLines(debpkg.Group); len(g) > 0 {
		t.Errorf("after purge, group %s: %v", debpkg.Group, g)
	}
	after := snapshot(t)
	for p := range after {
		if !before[p] {
			if strings.Contains(p, "govrrp") {
				t.Errorf("left behind: %s", p)
			} else {
				t.Logf("new since the install (another program?): %s", p)
			}
		}
	}
	for p := range before {
		if !after[p] && strings.Contains(p, "govrrp") {
			t.Errorf("removed: %s", p)
		}
	}
}

// runInstalled runs the installed govrrpd in a network namespace of its own
// with the group of the package on its control socket, as the unit would
// (Type=notify): it says READY=1, a router becomes Master, govrrp reaches it
// as a member of the group would, and a SIGTERM stops it cleanly after
// asking systemd for a stop timeout that covers its notify_timeout.
func runInstalled(t *testing.T) {
	lan := lab.NewLAN(t, 1)
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	notifyPath := filepath.Join(dir, "notify")
	notifySock, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notifyPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer notifySock.Close()
	d := govrrpd.NewT(t, lan.Nodes[0], "installed govrrpd", "/usr/sbin/govrrpd", dir)
	d.Options.Env = []string{"NOTIFY_SOCKET=" + notifyPath}
	d.StartT(t, fmt.Sprintf(`control_group: %s
notify_timeout: 45s
routers:
  - {name: pkg, interface: eth0, vrid: 77, priority: 200, advert_interval: 50ms, addresses: [10.77.0.254/24]}
`, debpkg.Group))
	if _, err := d.WaitState("pkg", "Master", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	// The installed govrrp reaches it as a member of the group would.
	if out, err := exec.Command("/usr/bin/govrrp", "-s", d.Sock, "status").CombinedOutput(); err != nil || !strings.Contains(string(out), "Master") {
		t.Fatalf("installed govrrp status: %v\n%s", err, out)
	}
	st, err := os.Stat(d.Sock)
	if err != nil {
		t.Fatal(err)
	}
	gid := st.Sys().(*syscall.Stat_t).Gid
	grp := run(t, "getent", "group", fmt.Sprint(gid))
	if !strings.HasPrefix(grp, debpkg.Group+":") || st.Mode().Perm() != 0o660 {
		t.Errorf("control socket: group %q mode %v, want %s 0660", strings.TrimSpace(grp), st.Mode().Perm(), debpkg.Group)
	}
	if err := d.Stop(10 * time.Second); err != nil {
		t.Error(err)
	}
	if out := d.Node.MustIP(t, "-br", "addr", "show", "dev", "eth0"); strings.Contains(out, "10.77.0.254") {
		t.Errorf("the virtual address stayed after the stop: %s", out)
	}
	var said []string
	buf := make([]byte, 4096)
	for {
		notifySock.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, err := notifySock.Read(buf)
		if err != nil {
			break
		}
		said = append(said, string(buf[:n]))
	}
	stopping := fmt.Sprintf("STOPPING=1\nEXTEND_TIMEOUT_USEC=%d", daemoncli.StopTimeout(45*time.Second).Microseconds())
	if len(said) < 2 || said[0] != "READY=1" || said[len(said)-1] != stopping {
		t.Errorf("govrrpd told systemd %q, want READY=1 first and %q last", said, stopping)
	}
	if slices.Contains(strings.Fields(d.Logs()), "level=ERROR") {
		t.Errorf("errors in the log:\n%s", d.Logs())
	}
}
