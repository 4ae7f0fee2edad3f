package config

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"

	"govrrp/vrrp"
)

// checkV2Compat applies the rules of v2_compat, the VRRPv2/v3
// interoperation mode of RFC 5798 §8.4: a VRRPv3 IPv4 router that also
// sends and hears VRRPv2 [5798-8.4.2-b], with an interval VRRPv2 peers
// accept [IMPL-15]. fsm.Config.Check holds the same rules for the daemon;
// here they get a line and a fix.
func (p *parser) checkV2Compat(r *Router, set map[string]*yaml.Node) {
	n := set["v2_compat"]
	if n == nil || !r.V2Compat {
		return
	}
	if r.Version != 3 {
		p.Fail(n, "write `version: 3` with it (a VRRPv2 router already speaks VRRPv2), or remove v2_compat", "v2_compat is for a VRRPv3 router")
		return
	}
	if r.Family != vrrp.IPv4 {
		p.Fail(n, "remove it: VRRPv2 is IPv4 only, an IPv6 router has no VRRPv2 peers", "v2_compat is IPv4 only")
		return
	}
	if iv := r.AdvertInterval; iv < time.Second || iv%time.Second != 0 {
		at := set["advert_interval"]
		if at == nil {
			at = n
		}
		p.Fail(at, fmt.Sprintf("write whole seconds, e.g. %v: VRRPv2 peers discard an advert whose interval is not theirs", max(iv.Round(time.Second), time.Second)),
			"advert_interval %v: with v2_compat the VRRPv2 copies carry whole seconds", iv)
	}
}
