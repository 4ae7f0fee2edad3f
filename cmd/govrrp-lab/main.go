// Command govrrp-lab is `make demo`: it builds a small LAN in network
// namespaces (three routers with priorities 200/150/100 on VRID 51 for IPv4
// and IPv6, one host), runs a real govrrpd on each router and narrates an
// election, a cable pull, preemption and a graceful stop while the host
// pings the virtual addresses. It needs root; everything it creates is
// removed at the end, on failure and on Ctrl-C, unless kept with --keep.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"govrrp/internal/demo"
	"govrrp/internal/lab"
	"govrrp/internal/version"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("govrrp-lab", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, `govrrp-lab %s: the live VRRP demo (make demo)

Usage: sudo govrrp-lab [--interval D] [--keep] [--govrrpd PATH]
       sudo govrrp-lab --clean

Builds a LAN of network namespaces (bridge, routers r1 r2 r3 with priorities
200/150/100, a host), starts govrrpd on each router with VRID %d for IPv4
(%s) and IPv6 (%s), and narrates: the election, the host
pinging the VIPs, a cable pull with the measured outage next to the RFC's
Master_Down_Interval, preemption when the cable is back, and a graceful stop
(priority 0, Skew_Time). Everything is removed at the end and on Ctrl-C.

`, version.Version, demo.VRID, demo.VIP4, demo.VIP6)
		fs.PrintDefaults()
	}
	interval := fs.Duration("interval", 100*time.Millisecond, "advert interval, 10ms..1s (every time in the demo scales with it)")
	keep := fs.Bool("keep", false, "leave the lab up at the end, to explore with ip netns exec and govrrp status -s")
	clean := fs.Bool("clean", false, "remove labs left up with --keep (and leftovers of killed runs), then exit")
	govrrpd := fs.String("govrrpd", "", "govrrpd binary (default: next to govrrp-lab, else on PATH)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "govrrp-lab: unexpected argument %q (see --help)\n", fs.Arg(0))
		return 2
	}
	if err := demo.CheckInterval(*interval); err != nil {
		fmt.Fprintln(stderr, "govrrp-lab:", err)
		return 2
	}
	if os.Geteuid() != 0 {
		// Not an error of the demo: say why and what to run instead.
		fmt.Fprint(stdout, demo.NeedRoot(args))
		return 0
	}
	if _, err := exec.LookPath("ip"); err != nil {
		fmt.Fprintln(stderr, "govrrp-lab: the ip tool (iproute2) is needed: apt-get install iproute2")
		return 1
	}
	if *clean {
		removed := lab.Clean()
		for _, li := range removed {
			fmt.Fprintf(stdout, "removed %s: %d namespaces, %d directories\n", li.Base, len(li.Namespaces), len(li.Dirs))
		}
		if len(removed) == 0 {
			fmt.Fprintln(stdout, "no kept labs to remove")
		}
		return 0
	}
	bin := *govrrpd
	if bin == "" {
		bin = findGovrrpd()
	}
	if bin == "" {
		fmt.Fprintln(stderr, "govrrp-lab: govrrpd not found next to govrrp-lab or on PATH: run `make build`, or pass --govrrpd PATH")
		return 1
	}

	// Ctrl-C (and SIGTERM, SIGHUP) cancel the run, which then stops the
	// daemons and removes the lab; further signals are swallowed until it
	// is done.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	tty := isTerminal(os.Stdout)
	_, err := demo.Run(ctx, demo.Options{
		Govrrpd:  bin,
		Interval: *interval,
		Keep:     *keep,
		Out:      stdout,
		TTY:      tty,
		Color:    tty && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb",
	})
	switch {
	case err == nil:
		return 0
	case ctx.Err() != nil:
		return 130
	default:
		fmt.Fprintln(stderr, "govrrp-lab:", err)
		return 1
	}
}

func findGovrrpd() string {
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "govrrpd")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	if p, err := exec.LookPath("govrrpd"); err == nil {
		return p
	}
	return ""
}

// isTerminal reports whether f is a terminal wide enough for the live
// table to be redrawn in place (narrower ones wrap it: plain lines then).
func isTerminal(f *os.File) bool {
	if _, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err != nil {
		return false
	}
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	return err != nil || ws.Col == 0 || ws.Col >= 80
}
