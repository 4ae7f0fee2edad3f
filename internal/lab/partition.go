package lab

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"govrrp/internal/testenv"
)

// dropVRRPTable is the nftables table DropVRRP installs in a namespace.
const dropVRRPTable = "govrrp_test_partition"

// DropVRRP makes nd drop every VRRP packet (IP protocol 112, IPv4 and IPv6)
// it receives, with an nftables table in its namespace, until heal runs or
// the test ends. Dropping on both sides of a LAN partitions the routers
// while hosts still reach them all. The nft that heals is started here and
// waits on its input, so heal takes a millisecond or two, not a process
// start: two heals run back to back open both sides almost at once.
func DropVRRP(t testing.TB, nd *Node) (heal func()) {
	t.Helper()
	testenv.RequireTool(t, "nft")
	rules := fmt.Sprintf("table inet %s {\n chain in {\n  type filter hook input priority -10; policy accept;\n  meta l4proto 112 drop\n }\n}\n", dropVRRPTable)
	cmd := exec.Command("ip", "netns", "exec", nd.Name, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft in %s: %v: %s", nd.Name, err, out)
	}
	healer := exec.Command("ip", "netns", "exec", nd.Name, "nft", "-f", "-")
	in, err := healer.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	healer.Stdout, healer.Stderr = &out, &out
	if err := healer.Start(); err != nil {
		t.Fatal(err)
	}
	healed := false
	heal = func() {
		if healed {
			return
		}
		healed = true
		fmt.Fprintf(in, "delete table inet %s\n", dropVRRPTable)
		in.Close()
		if err := healer.Wait(); err != nil {
			t.Errorf("nft delete in %s: %v: %s", nd.Name, err, out.String())
		}
	}
	t.Cleanup(heal)
	return heal
}
