package config

import (
	"fmt"
	"strings"
)

// Reference renders the configuration reference (docs/CONFIG.md) from Schema
// and the example file, so the document is generated, never hand-edited.
func Reference(example string) string {
	var b strings.Builder
	b.WriteString(`# govrrpd configuration reference

Generated from ` + "`internal/config/schema.go`" + ` by
` + "`go test ./internal/config -run TestReference -update`" + `; a test fails when it is out of date.

govrrpd reads one YAML file, ` + "`" + DefaultFile + "`" + ` by default or ` + "`govrrpd -c FILE`" + `.
Parsing is strict: an unknown key, a wrong type, an out-of-range value or a rule broken between keys is
refused with ` + "`file:line:col: what is wrong; what to write instead`" + `, every problem at once.
` + "`govrrp validate FILE`" + ` runs the same checks, plus the host checks (interfaces exist, an owner
(priority 255) has its addresses), without changing anything.

Durations are Go durations with a unit: ` + "`10ms`, `1s`, `1m30s`" + `.

| key | type | default | range | meaning |
|---|---|---|---|---|
`)
	for _, k := range Schema {
		def := k.Default
		if def != "" {
			def = "`" + def + "`"
		}
		cell := strings.NewReplacer("|", `\|`).Replace
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", k.Path, cell(k.Type), cell(def), cell(k.Range), cell(k.Doc))
	}
	b.WriteString(`
## Rules between keys

- One address family per router; the same VRID may run once per family on an interface.
- VRRPv2 is IPv4 only, counts the interval in whole seconds, and has no ` + "`checksum`" + `;
  ` + "`auth`" + ` is VRRPv2 only.
- An IPv6 address list starts with the virtual link-local address (RFC 9568 §5.2.9).
- ` + "`(interface, vrid, family)`" + ` and ` + "`name`" + ` are unique; tracked scripts are defined under ` + "`scripts`" + `.
- A tracked object with weight 0 puts the router in Fault while it fails; otherwise the effective priority
  is the configured one plus the weights of the failed objects, clamped to 1..254. An owner (255) is never
  changed by tracking.

## Example

` + "```yaml\n" + example + "```\n")
	return b.String()
}
