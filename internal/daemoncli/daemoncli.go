// Package daemoncli is govrrpd's command line: its flags, --help and
// --version, in the conventions of govrrp (long flags, help on stdout with
// exit 0, a usage error on stderr with exit 2). The same table renders the
// usage and the govrrpd(8) man page (internal/man), so they cannot drift.
package daemoncli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"govrrp/internal/config"
	"govrrp/internal/version"
)

// Exit codes: as govrrp's.
const (
	ExitOK    = 0
	ExitFail  = 1
	ExitUsage = 2
)

// StopTimeout bounds a stop of govrrpd: the router hooks and then the sync
// groups' hooks are each waited for at most twice notify_timeout
// (internal/daemon.closeHooks), and the rest takes seconds. The unit's
// TimeoutStopSec is this at the default notify_timeout, and govrrpd asks
// systemd for this much when it stops (EXTEND_TIMEOUT_USEC).
func StopTimeout(notifyTimeout time.Duration) time.Duration {
	return 4*notifyTimeout + 30*time.Second
}

// Options is what the command line asks for.
type Options struct {
	Config     string // configuration file
	Check      bool   // validate and exit
	CPUProfile string
	MemProfile string
}

// Flag is one row of the flag table. Names lists the short name (if any)
// first; every name works with one dash or two (the flag package's rule),
// so the single-dash forms of earlier releases (-c, -check) keep working.
type Flag struct {
	Names   []string
	Arg     string // the value's name; "" for a boolean
	Default string
	Doc     string
}

// Flags is govrrpd's flag table, in usage order.
var Flags = []Flag{
	{[]string{"c", "config"}, "FILE", config.DefaultFile, "The configuration file (govrrpd.yaml(5))."},
	{[]string{"check"}, "", "", "Check the configuration, with the checks of the host (those of govrrp validate), print the warnings and exit: 0 when it would start, 1 when not."},
	{[]string{"version"}, "", "", "Print the version, commit, Go version and build date, and exit."},
	{[]string{"h", "help"}, "", "", "Print this help and exit."},
	{[]string{"cpuprofile"}, "FILE", "", "Write a CPU profile (go tool pprof) to FILE until the daemon stops."},
	{[]string{"memprofile"}, "FILE", "", "Write a heap profile (go tool pprof) to FILE when the daemon is told to stop, before it stops."},
}

// Synopsis is the usage line.
const Synopsis = "govrrpd [--config FILE] [--check] [--version] [--help] [--cpuprofile FILE] [--memprofile FILE]"

// Description says what govrrpd does; the usage and the man page show it.
const Description = `Runs the virtual routers of FILE. Signals: SIGTERM/SIGINT stop (masters send
priority 0 and release their addresses), SIGHUP reloads FILE (a bad file is
refused and the running configuration stays). Inspect it with govrrp status.
`

// Label renders a flag's names as the usage does: "-c, --config FILE".
func (f Flag) Label() string {
	var parts []string
	for _, n := range f.Names {
		if len(n) == 1 {
			parts = append(parts, "-"+n)
		} else {
			parts = append(parts, "--"+n)
		}
	}
	s := strings.Join(parts, ", ")
	if f.Arg != "" {
		s += " " + f.Arg
	}
	return s
}

// Usage writes govrrpd's help.
func Usage(w io.Writer) {
	fmt.Fprintf(w, "govrrpd %s: VRRP daemon (VRRPv2/v3, IPv4/IPv6)\n\nUsage: %s\n\n%s\nFlags:\n", version.Version, Synopsis, Description)
	for _, f := range Flags {
		doc := f.Doc
		if f.Default != "" {
			doc = strings.TrimSuffix(doc, ".") + " (default " + f.Default + ")."
		}
		fmt.Fprintf(w, "  %-20s %s\n", f.Label(), wrap(doc, 23, 79))
	}
}

// Parse reads the arguments. When exit is not -1 the process exits with it:
// after --help or --version (0, on stdout), or after a usage error (2, the
// message on stderr).
func Parse(args []string, stdout, stderr io.Writer) (o Options, exit int) {
	fs := flag.NewFlagSet("govrrpd", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // its errors are printed below, with the flag as typed
	fs.Usage = func() {}
	var showVersion bool
	for _, f := range Flags {
		for _, n := range f.Names {
			switch n {
			case "c", "config":
				fs.StringVar(&o.Config, n, f.Default, f.Doc)
			case "check":
				fs.BoolVar(&o.Check, n, false, f.Doc)
			case "version":
				fs.BoolVar(&showVersion, n, false, f.Doc)
			case "cpuprofile":
				fs.StringVar(&o.CPUProfile, n, "", f.Doc)
			case "memprofile":
				fs.StringVar(&o.MemProfile, n, "", f.Doc)
			case "h", "help":
				// The flag package's own: ErrHelp below.
			default:
				panic("daemoncli: flag without a variable: " + n)
			}
		}
	}
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		Usage(stdout)
		return o, ExitOK
	case err != nil:
		fmt.Fprintf(stderr, "govrrpd: %s\nRun govrrpd --help for the flags.\n", asTyped(err.Error(), args))
		return o, ExitUsage
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "govrrpd: unexpected argument %q: the configuration file is given with --config FILE\nRun govrrpd --help for the flags.\n", fs.Arg(0))
		return o, ExitUsage
	case o.Config == "":
		fmt.Fprintln(stderr, "govrrpd: --config is empty")
		return o, ExitUsage
	case showVersion:
		fmt.Fprintln(stdout, version.String("govrrpd"))
		return o, ExitOK
	}
	return o, -1
}

// asTyped writes the flag a flag package error names ("-config", whatever
// the user typed) the way it was typed: --config for --config or
// --config=x.
func asTyped(msg string, args []string) string {
	for _, a := range args {
		if a == "--" {
			break // the arguments after it are not flags
		}
		if !strings.HasPrefix(a, "--") {
			continue
		}
		name, _, _ := strings.Cut(a[2:], "=")
		if name == "" {
			continue
		}
		re := regexp.MustCompile(` -` + regexp.QuoteMeta(name) + `(:|$)`)
		if loc := re.FindStringIndex(msg); loc != nil {
			return msg[:loc[0]] + " --" + msg[loc[0]+2:]
		}
	}
	return msg
}

// wrap breaks s into lines of at most width columns, the lines after the
// first indented by indent.
func wrap(s string, indent, width int) string {
	var b strings.Builder
	col := indent
	for i, word := range strings.Fields(s) {
		if i > 0 && col+1+len(word) > width {
			b.WriteString("\n" + strings.Repeat(" ", indent))
			col = indent
		} else if i > 0 {
			b.WriteByte(' ')
			col++
		}
		b.WriteString(word)
		col += len(word)
	}
	return b.String()
}
