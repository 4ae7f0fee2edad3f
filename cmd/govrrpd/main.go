// Command govrrpd is the govrrp VRRP daemon.
//
// Not yet: this build only prints its version. The daemon (configuration,
// sockets, state machines) arrives with the daemon issue; until then govrrpd
// refuses to pretend it runs anything.
package main

import (
	"flag"
	"fmt"
	"os"

	"govrrp/internal/version"
)

func main() {
	fs := flag.NewFlagSet("govrrpd", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `govrrpd %s: VRRP daemon (VRRPv2/v3, IPv4/IPv6)

STATUS: not implemented yet. This build only prints its version; it does not
read a configuration, open sockets or run virtual routers.

Usage: govrrpd [-version]
`, version.Version)
		fs.PrintDefaults()
	}
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if *showVersion {
		fmt.Println("govrrpd", version.Version)
		return
	}
	fmt.Fprintln(os.Stderr, "govrrpd: the daemon is not implemented yet; see `govrrpd -help`")
	os.Exit(1)
}
