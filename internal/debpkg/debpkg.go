// Package debpkg builds govrrp's Debian package with nfpm (`make package`):
// what goes where with which mode (Files), the generated files (gzipped man
// pages, changelog, copyright), the maintainer scripts of dist/debian, and
// the .deb itself. Its tests check the sample configuration; test/pkg checks
// the built package with lintian, dpkg-deb and an install/purge cycle.
package debpkg

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"
)

const (
	// Name is the package's name.
	Name = "govrrp"
	// Maintainer is the Maintainer field and the changelog's signature.
	Maintainer = "govrrp developers <govrrp@users.noreply.github.com>"
	// Homepage is the Homepage field.
	Homepage = "https://github.com/govrrp/govrrp"
	// Group is the system group of the control socket: control_group in
	// the sample configuration, SupplementaryGroups in the unit, created
	// by postinst and removed on purge.
	Group = "govrrp"
	// Conffile is the sample configuration's place.
	Conffile = "/etc/govrrp/govrrpd.yaml"
)

// Options says what to build.
type Options struct {
	Version string    // Debian version, from scripts/version.sh (0.2.0, 0.2.0+3.gabc1234)
	Commit  string    // for the changelog
	Arch    string    // Debian architecture (amd64, arm64)
	Root    string    // the repository: dist/, README.md, docs/
	BinDir  string    // where the static govrrpd and govrrp are
	Stage   string    // a scratch directory for generated files
	MTime   time.Time // every file's time: SOURCE_DATE_EPOCH or the commit's
}

// File is one file of the package: its place, its source (under
// Options.Root, or under Stage when generated), its mode and its type.
type File struct {
	Dst  string
	Src  string
	Mode os.FileMode
	Type string // files.TypeFile, files.TypeConfigNoReplace, ...
}

// Files lists the package's files. Generated ones are under stage.
func Files(o Options) []File {
	doc := "/usr/share/doc/" + Name
	r := func(p string) string { return filepath.Join(o.Root, p) }
	s := func(p string) string { return filepath.Join(o.Stage, p) }
	fs := []File{
		{"/usr/sbin/govrrpd", filepath.Join(o.BinDir, "govrrpd"), 0o755, files.TypeFile},
		{"/usr/bin/govrrp", filepath.Join(o.BinDir, "govrrp"), 0o755, files.TypeFile},
		{"/usr/lib/systemd/system/govrrpd.service", r("dist/govrrpd.service"), 0o644, files.TypeFile},
		{Conffile, r("dist/govrrpd.yaml"), 0o644, files.TypeConfigNoReplace},
		{"/usr/share/man/man8/govrrpd.8.gz", s("govrrpd.8.gz"), 0o644, files.TypeFile},
		{"/usr/share/man/man8/govrrp.8.gz", s("govrrp.8.gz"), 0o644, files.TypeFile},
		{"/usr/share/man/man5/govrrpd.yaml.5.gz", s("govrrpd.yaml.5.gz"), 0o644, files.TypeFile},
		{"/usr/share/bash-completion/completions/govrrp", r("dist/completion/govrrp.bash"), 0o644, files.TypeFile},
		{"/usr/share/zsh/vendor-completions/_govrrp", r("dist/completion/_govrrp"), 0o644, files.TypeFile},
		{doc + "/copyright", s("copyright"), 0o644, files.TypeFile},
		{doc + "/changelog.gz", s("changelog.gz"), 0o644, files.TypeFile},
		{doc + "/README.md", r("README.md"), 0o644, files.TypeFile},
	}
	// The documents an operator reads (the man pages and the installed
	// files name them), flat beside README.md: they link each other by
	// their bare names.
	for _, d := range Docs {
		fs = append(fs, File{doc + "/" + d, r("docs/" + d), 0o644, files.TypeFile})
	}
	return append(fs,
		File{doc + "/examples/relax-sandbox.conf", r("dist/relax-sandbox.conf"), 0o644, files.TypeFile},
		File{doc + "/examples/govrrp-alerts.yml", r("dist/prometheus/govrrp-alerts.yml"), 0o644, files.TypeFile},
		File{doc + "/examples/govrrp-dashboard.json", r("dist/grafana/govrrp-dashboard.json"), 0o644, files.TypeFile},
		File{doc + "/examples/simulate-partition.yaml", r("dist/examples/simulate-partition.yaml"), 0o644, files.TypeFile},
		File{"/usr/share/lintian/overrides/" + Name, r("dist/debian/lintian-overrides"), 0o644, files.TypeFile},
	)
}

// Docs are the documents of docs/ the package ships under
// /usr/share/doc/govrrp (not those for developers: ARCHITECTURE.md).
var Docs = []string{"CONFIG.md", "OPERATING.md", "MONITORING.md", "MIGRATING.md", "INTEROP.md", "CONFORMANCE.md", "RELIABILITY.md", "BENCHMARKS.md"}

// Build stages the generated files and writes the package to w.
func Build(o Options, w io.Writer) error {
	if err := stage(o); err != nil {
		return err
	}
	info := &nfpm.Info{
		Name:          Name,
		Arch:          o.Arch,
		Platform:      "linux",
		Version:       o.Version,
		VersionSchema: "none", // as given: 0.2.0+3.gabc1234 is already a Debian version
		Section:       "net",
		Priority:      "optional",
		Maintainer:    Maintainer,
		Homepage:      Homepage,
		Description: `VRRP daemon (VRRPv2/v3, IPv4/IPv6) with CLI, API and metrics
 govrrpd runs virtual routers by VRRPv2 (RFC 3768) and VRRPv3 (RFC 5798,
 RFC 9568) over IPv4 and IPv6: a virtual address that moves to a backup
 router within a second when the master fails. It interoperates with
 keepalived and FRR, and imports keepalived configurations.
 .
 govrrp shows the daemon's state, watches its events, reloads it, checks
 configurations and decodes VRRP captures.`,
		MTime:        o.MTime,
		Overridables: Overridables(o),
	}
	return deb.Default.Package(info, w)
}

// Overridables is the package's contents and maintainer scripts.
func Overridables(o Options) nfpm.Overridables {
	var cs files.Contents
	dirs := map[string]bool{}
	for _, f := range Files(o) {
		// Directories of the package's own (not /usr/share/man and the
		// like, which other packages own too) are listed so dpkg removes
		// them when empty.
		for d := filepath.Dir(f.Dst); strings.HasPrefix(d, "/etc/govrrp") || strings.HasPrefix(d, "/usr/share/doc/"+Name); d = filepath.Dir(d) {
			dirs[d] = true
		}
		cs = append(cs, &files.Content{Source: f.Src, Destination: f.Dst, Type: f.Type,
			FileInfo: &files.ContentFileInfo{Owner: "root", Group: "root", Mode: f.Mode, MTime: o.MTime}})
	}
	for _, d := range slices.Sorted(mapsKeys(dirs)) {
		cs = append(cs, &files.Content{Destination: d, Type: files.TypeDir,
			FileInfo: &files.ContentFileInfo{Owner: "root", Group: "root", Mode: 0o755, MTime: o.MTime}})
	}
	scripts := filepath.Join(o.Root, "dist/debian")
	return nfpm.Overridables{
		Contents: cs,
		Scripts: nfpm.Scripts{
			PostInstall: filepath.Join(scripts, "postinst"),
			PreRemove:   filepath.Join(scripts, "prerm"),
			PostRemove:  filepath.Join(scripts, "postrm"),
		},
	}
}

func mapsKeys(m map[string]bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// stage writes the generated files: the man pages gzipped (-9n, no name
// or time inside), the changelog and the copyright.
func stage(o Options) error {
	if err := os.MkdirAll(o.Stage, 0o755); err != nil {
		return err
	}
	for _, p := range []string{"govrrpd.8", "govrrp.8", "govrrpd.yaml.5"} {
		b, err := os.ReadFile(filepath.Join(o.Root, "dist/man", p))
		if err != nil {
			return err
		}
		if err := writeGzip(filepath.Join(o.Stage, p+".gz"), b); err != nil {
			return err
		}
	}
	if err := writeGzip(filepath.Join(o.Stage, "changelog.gz"), []byte(Changelog(o))); err != nil {
		return err
	}
	c, err := Copyright(o.Root)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(o.Stage, "copyright"), []byte(c), 0o644)
}

func writeGzip(path string, b []byte) error {
	var buf bytes.Buffer
	z, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	z.Write(b)
	if err := z.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// Changelog is the package's changelog in Debian's format: one entry for
// this version (the package is native: upstream and package are one).
func Changelog(o Options) string {
	commit := o.Commit
	if len(commit) > 12 {
		commit = commit[:12]
	}
	return fmt.Sprintf("%s (%s) unstable; urgency=medium\n\n  * Release %s, commit %s.\n    The changes are in the git history.\n\n -- %s  %s\n",
		Name, o.Version, o.Version, commit, Maintainer, o.MTime.UTC().Format("Mon, 02 Jan 2006 15:04:05 -0700"))
}

// Copyright is debian/copyright in the machine-readable format: govrrp
// itself, then every Go module linked into the binaries with its license
// text, as a static binary carries them all.
func Copyright(root string) (string, error) {
	cmd := exec.Command("go", "list", "-deps", "-f", "{{with .Module}}{{if not .Main}}{{.Path}} {{.Version}} {{.Dir}}{{end}}{{end}}", "./cmd/govrrpd", "./cmd/govrrp")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list: %w", err)
	}
	mods := strings.Split(strings.TrimSpace(string(out)), "\n")
	slices.Sort(mods)
	mods = slices.Compact(mods)
	var b strings.Builder
	fmt.Fprintf(&b, `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: govrrp
Source: %s
Comment: The binaries are static Go programs: they contain the Go standard
 library and the Go modules listed below, each under its own license.

Files: *
Copyright: the govrrp developers
License: govrrp
 No license has been chosen for govrrp yet; until one is, all rights are
 reserved by its authors.

Files: go-stdlib/*
Copyright: The Go Authors
License: BSD-3-clause
`, Homepage)
	goroot, _ := exec.Command("go", "env", "GOROOT").Output()
	if lic, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(goroot)), "LICENSE")); err == nil {
		b.WriteString(indent(string(lic)))
	}
	for _, m := range mods {
		f := strings.SplitN(m, " ", 3)
		if len(f) != 3 {
			continue
		}
		lic, name := license(f[2])
		fmt.Fprintf(&b, "\nFiles: go-modules/%s/*\nCopyright: the authors of %s %s (see the license)\n", f[0], f[0], f[1])
		// Apache-2.0 §4(d): the NOTICE goes with the binaries.
		if notice, err := os.ReadFile(filepath.Join(f[2], "NOTICE")); err == nil {
			b.WriteString("Comment: The module's NOTICE:\n" + indent(string(notice)))
		}
		fmt.Fprintf(&b, "License: %s\n%s", name, indent(lic))
	}
	return b.String(), nil
}

var licenseFile = regexp.MustCompile(`(?i)^(LICEN[CS]E|COPYING)(\.md|\.txt)?$`)

// license reads a module's license file and names its license roughly.
func license(dir string) (text, name string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if licenseFile.MatchString(e.Name()) {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				continue
			}
			text = string(b)
			break
		}
	}
	switch {
	case text == "":
		return "See the module's source.", "other"
	case strings.Contains(text, "TERMS AND CONDITIONS FOR USE, REPRODUCTION"):
		// The whole Apache license: Debian has the text (Policy 12.5).
		return "On Debian systems the full text of the license is in\n/usr/share/common-licenses/Apache-2.0.", "Apache-2.0"
	case strings.Contains(text, "Mozilla Public License Version 2.0"):
		return "On Debian systems the full text of the license is in\n/usr/share/common-licenses/MPL-2.0.", "MPL-2.0"
	case strings.Contains(text, "Apache License") && strings.Contains(text, "Permission is hereby granted, free of charge"):
		name = "Expat and Apache-2.0"
	case strings.Contains(text, "Apache License"):
		name = "Apache-2.0"
	case strings.Contains(text, "Mozilla Public License"):
		name = "MPL-2.0"
	case strings.Contains(text, "Permission is hereby granted, free of charge"):
		name = "Expat"
	case strings.Contains(text, "Neither the name"):
		name = "BSD-3-clause"
	case strings.Contains(text, "Redistribution and use"):
		name = "BSD-2-clause"
	default:
		name = "other"
	}
	return text, name
}

// indent formats text as the continuation lines of a field: one space,
// and " ." for an empty line.
func indent(text string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			b.WriteString(" .\n")
		} else {
			b.WriteString(" " + l + "\n")
		}
	}
	return b.String()
}
