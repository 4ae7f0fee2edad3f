// Command package writes govrrp's Debian package (make package): the static
// binaries of BINDIR with the files of dist/, by internal/debpkg.
//
//	go run ./scripts/package -version 0.2.0 -commit HASH -date 2026-12-01T00:00:00Z -bin bin -o bin/
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"govrrp/internal/debpkg"
)

func main() {
	version := flag.String("version", "", "Debian version (scripts/version.sh)")
	commit := flag.String("commit", "", "git commit")
	date := flag.String("date", "", "build date, RFC 3339: every file's time")
	arch := flag.String("arch", runtime.GOARCH, "Debian architecture")
	bin := flag.String("bin", "bin", "directory with the static govrrpd and govrrp")
	out := flag.String("o", "bin", "directory the package is written to")
	flag.Parse()
	if err := run(*version, *commit, *date, *arch, *bin, *out); err != nil {
		fmt.Fprintln(os.Stderr, "package:", err)
		os.Exit(1)
	}
}

func run(version, commit, date, arch, bin, out string) error {
	if version == "" || flag.NArg() > 0 {
		return fmt.Errorf("usage: package -version V [-commit C] [-date D] [-arch A] [-bin DIR] [-o DIR]")
	}
	mtime, err := time.Parse(time.RFC3339, date)
	if err != nil {
		return fmt.Errorf("-date: %w", err)
	}
	stage, err := os.MkdirTemp("", "govrrp-package")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)
	path := filepath.Join(out, fmt.Sprintf("%s_%s_%s.deb", debpkg.Name, version, arch))
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	o := debpkg.Options{Version: version, Commit: commit, Arch: arch, Root: ".", BinDir: bin, Stage: stage, MTime: mtime}
	if err := debpkg.Build(o, f); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Println(path)
	return nil
}
