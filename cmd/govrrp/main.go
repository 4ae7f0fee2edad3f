// Command govrrp is the govrrp command-line tool: it talks to the govrrpd
// daemon over its control socket, checks configurations and inspects VRRP
// traffic.
//
//	govrrp [-s PATH] status [--json]          every virtual router at a glance
//	govrrp [-s PATH] show [--json] NAME       everything about one virtual router
//	govrrp [-s PATH] watch [--history N]      live events
//	govrrp [-s PATH] reload [--json]          make govrrpd reread its configuration
//	govrrp [-s PATH] disable|enable NAME      take a virtual router out of service, or back
//	govrrp [-s PATH] log-level [LEVEL]        show or change govrrpd's log level
//	govrrp validate [--no-host] [FILE]        check a configuration file offline
//	govrrp import keepalived FILE [-o OUT]  translate a keepalived.conf
//	govrrp decode [--summary] FILE            decode the VRRP packets of a capture
//	govrrp simulate [FLAGS] [-f FILE]         run a failover scenario in the simulator
//	govrrp simulate -c FILE -c FILE --fail N  ... with govrrpd configurations, one per box
//	govrrp version                            print the version
//	govrrp help [COMMAND]                     list the commands, or explain one
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"govrrp/internal/config"
	"govrrp/internal/version"
)

// Exit codes: 0 success, 1 the command failed on its way (a damaged capture,
// an unreachable daemon, a configuration with errors), 2 usage errors and
// inputs that are not what the command reads, 3 done in part (an import
// that left something out, a reload that left changed keys for the next
// start).
const (
	exitOK      = 0
	exitFail    = 1
	exitUsage   = 2
	exitPartial = 3
)

// command is one subcommand. run gets the global flags and the arguments
// after its name.
type command struct {
	name    string
	summary string
	usage   string
	run     func(g *globals, args []string, stdout, stderr io.Writer) int
}

// globals are the flags written before the command name.
type globals struct {
	socket string // govrrpd's control socket
}

// socketEnv overrides config.DefaultControlSocket; -s overrides both.
const socketEnv = "GOVRRP_SOCKET"

const globalUsage = `Global flags (before the command; the daemon commands also take them after it):
  -s, --socket PATH   govrrpd's control socket: control_socket in its
                      configuration (default $GOVRRP_SOCKET, else ` + config.DefaultControlSocket + `)
`

// commands lists the subcommands in help order.
var commands []command

func init() {
	commands = []command{
		{"status", "show every virtual router at a glance", statusUsage, runStatus},
		{"show", "show everything about one virtual router", showUsage, runShow},
		{"bfd", "show the BFD sessions: state, intervals, diagnostics, Downs", bfdUsage, runBFD},
		{"watch", "print govrrpd's events as they happen", watchUsage, runWatch},
		{"reload", "make govrrpd reread its configuration", reloadUsage, runReload},
		{"disable", "take a virtual router out of service (a Master resigns first)", disableUsage, runDisable},
		{"enable", "put a disabled virtual router back in service", enableUsage, runEnable},
		{"log-level", "show or change govrrpd's log level", logLevelUsage, runLogLevel},
		{"validate", "check a configuration file without touching the network", validateUsage, local(runValidate)},
		{"import", "translate a keepalived configuration into a govrrpd one", importUsage, local(runImport)},
		{"decode", "decode the VRRP packets of a pcap or pcapng capture", decodeUsage, local(runDecode)},
		{"simulate", "run a failover scenario in the simulator: what happens if...", simulateUsage, local(runSimulate)},
		{"version", "print the version", "Usage: govrrp version\n", local(runVersion)},
		{"help", "list the commands, or explain one", "Usage: govrrp help [COMMAND]\n", local(runHelp)},
	}
}

// local adapts a command that does not talk to the daemon.
func local(f func(args []string, stdout, stderr io.Writer) int) func(*globals, []string, io.Writer, io.Writer) int {
	return func(_ *globals, args []string, stdout, stderr io.Writer) int { return f(args, stdout, stderr) }
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches to a subcommand; it is main without the process, for tests.
func run(args []string, stdout, stderr io.Writer) int {
	g := &globals{socket: os.Getenv(socketEnv)}
	if g.socket == "" {
		g.socket = config.DefaultControlSocket
	}
	fs := flag.NewFlagSet("govrrp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	socketFlags(fs, g)
	showVersion := fs.Bool("version", false, "print the version")
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		usage(stdout)
		return exitOK
	case err != nil:
		fmt.Fprintln(stderr)
		usage(stderr)
		return exitUsage
	case *showVersion:
		return runVersion(nil, stdout, stderr)
	}
	args = fs.Args()
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	if g.socket == "" {
		fmt.Fprintln(stderr, "govrrp: the socket path is empty")
		return exitUsage
	}
	if c := lookup(args[0]); c != nil {
		return c.run(g, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "govrrp: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

func lookup(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "govrrp %s: VRRP tools (VRRPv2/v3, IPv4/IPv6)\n\nUsage: govrrp [-s PATH] COMMAND [ARGUMENTS]\n\nCommands:\n", version.Version)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s  %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\n%s\nRun `govrrp help COMMAND` for the arguments of a command.\n", globalUsage)
}

func runVersion(args []string, stdout, stderr io.Writer) int {
	if len(args) != 0 {
		fmt.Fprintln(stderr, "Usage: govrrp version")
		return exitUsage
	}
	fmt.Fprintln(stdout, version.String("govrrp"))
	return exitOK
}

func runHelp(args []string, stdout, stderr io.Writer) int {
	switch len(args) {
	case 0:
		usage(stdout)
		return exitOK
	case 1:
		if c := lookup(args[0]); c != nil {
			fmt.Fprint(stdout, c.usage)
			return exitOK
		}
		fmt.Fprintf(stderr, "govrrp help: unknown command %q\n", args[0])
	default:
		fmt.Fprintln(stderr, "Usage: govrrp help [COMMAND]")
	}
	return exitUsage
}

// parseInterspersed parses flags that may come before or after positional
// arguments (`decode FILE --summary` as well as `decode --summary FILE`),
// which the flag package alone does not allow. After "--" everything is
// positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}
