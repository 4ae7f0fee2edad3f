// Command govrrp is the govrrp command-line tool: it inspects VRRP traffic
// and, later, talks to the govrrpd daemon.
//
//	govrrp decode [--summary] FILE   decode the VRRP packets of a capture
//	govrrp version                   print the version
//	govrrp help [COMMAND]            list the commands, or explain one
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"govrrp/internal/version"
)

// Exit codes: 0 success, 1 the command failed on its way (a damaged capture),
// 2 usage errors and inputs that are not what the command reads.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// command is one subcommand. run gets the arguments after its name.
type command struct {
	name    string
	summary string
	usage   string
	run     func(args []string, stdout, stderr io.Writer) int
}

// commands lists the subcommands in help order. Later issues add validate,
// status, simulate...
var commands []command

func init() {
	commands = []command{
		{"decode", "decode the VRRP packets of a pcap or pcapng capture", decodeUsage, runDecode},
		{"version", "print the version", "Usage: govrrp version\n", runVersion},
		{"help", "list the commands, or explain one", "Usage: govrrp help [COMMAND]\n", runHelp},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches to a subcommand; it is main without the process, for tests.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	case "-version", "--version":
		return runVersion(nil, stdout, stderr)
	}
	if c := lookup(args[0]); c != nil {
		return c.run(args[1:], stdout, stderr)
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
	fmt.Fprintf(w, "govrrp %s: VRRP tools (VRRPv2/v3, IPv4/IPv6)\n\nUsage: govrrp COMMAND [ARGUMENTS]\n\nCommands:\n", version.Version)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun `govrrp help COMMAND` for the arguments of a command.")
}

func runVersion(args []string, stdout, stderr io.Writer) int {
	if len(args) != 0 {
		fmt.Fprintln(stderr, "Usage: govrrp version")
		return exitUsage
	}
	fmt.Fprintln(stdout, "govrrp", version.Version)
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
