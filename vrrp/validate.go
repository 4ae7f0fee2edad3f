package vrrp

import (
	"net/netip"
	"slices"
	"time"
)

// IPHeader holds the facts of the IP header an advert arrived in.
type IPHeader struct {
	Src, Dst netip.Addr
	TTL      uint8 // TTL (IPv4) or hop limit (IPv6), as received
}

// Config is what the receive checks compare an advert against: one virtual
// router configured on the receiving interface, for the advert's family.
type Config struct {
	Version   uint8         // 2 or 3
	Priority  uint8         // local priority; 255 = we own the addresses
	Interval  time.Duration // local Advertisement_Interval
	Addresses []netip.Addr  // configured virtual addresses
	AuthType  AuthType      // VRRPv2
	AuthData  [8]byte       // VRRPv2, type 1
	Checksum  ChecksumForm  // VRRPv3 IPv4 form tried first
	Local     netip.Addr    // our own source address: adverts from it are ours [IMPL-6]
	Peers     []netip.Addr  // unicast peers; empty means multicast (spec §2.1)
	// Strict enforces the errata checks that real peers fail (count 0, IPv6
	// first address not link-local, v2 address list) instead of reporting
	// them [IMPL-8][IMPL-10].
	Strict bool
	// V2Compat: a VRRPv3 IPv4 router in the v2/v3 interoperation mode also
	// listens for VRRPv2 adverts [5798-8.4.2-b]. They are checked as v2
	// messages (auth type none, since the router has none), except that a
	// different Adver Int is reported, not discarded: such a router times
	// out on the Master's rate [9568-8.4.2-a].
	V2Compat bool
}

// Lookup finds the virtual router configured for a VRID on the receiving
// interface and family; nil when there is none. A nil Lookup means "no local
// configuration": Validate runs only the checks that need none.
type Lookup func(vrid uint8) *Config

// Warnings is the set of checks that failed but, by the spec, keep the advert:
// the caller logs and counts them and hands the advert to the state machine.
// Bit c is Check c.
type Warnings uint32

const (
	WarnOwnerConflict     Warnings = 1 << CheckOwnerConflict
	WarnZeroCount         Warnings = 1 << CheckZeroCount
	WarnFirstNotLinkLocal Warnings = 1 << CheckFirstNotLinkLocal
	WarnAddressList       Warnings = 1 << CheckAddressList
	WarnIntervalMismatch  Warnings = 1 << CheckIntervalMismatch
)

// Warnings has a bit for every check.
var _ = [32 - NumChecks]struct{}{}

// Has reports whether w holds the warning of check c.
func (w Warnings) Has(c Check) bool { return c < NumChecks && w&(1<<c) != 0 }

// Errors returns the sentinel errors of w, in check order.
func (w Warnings) Errors() []error {
	var errs []error
	for c := range NumChecks {
		if w.Has(c) {
			errs = append(errs, c.Err())
		}
	}
	return errs
}

// Result describes an advert that passed validation.
type Result struct {
	Config   *Config      // the local virtual router; nil without a Lookup
	Form     ChecksumForm // the checksum form that matched
	Warnings Warnings
}

// Validate runs the receive checks of spec §7 on payload, the IP payload of an
// advert, in the spec's order, decoding it into m on the way. It returns the
// first failure as one of the package's sentinel errors; the advert must then
// be dropped and counted, and nothing else changes. On success m holds the
// advert, ready for the state machine. With a reused m it does not allocate.
func Validate(m *Message, payload []byte, ip IPHeader, lookup Lookup) (Result, error) {
	var res Result
	fam := FamilyOf(ip.Src)
	// 0: room for the fixed header [5798-7.1-c].
	if len(payload) < headerLen {
		return res, ErrTruncated
	}
	var cfg *Config
	if lookup != nil {
		cfg = lookup(payload[1])
	}
	// 1: TTL / hop limit 255 [5798-7.1-a][3768-7.1-a]. Unicast instances
	// skip it: their adverts may cross routers (spec §2.1).
	if ip.TTL != TTL && (cfg == nil || len(cfg.Peers) == 0) {
		return res, ErrTTL
	}
	// 2, 3, 4: version, type, length [5798-7.1-b][9568-7.1-b][5798-7.1-c].
	if err := m.Decode(payload, fam); err != nil {
		return res, err
	}
	msg := payload[:m.Len()]
	// 5: checksum [5798-7.1-d][3768-7.1-d].
	prefer := ChecksumPseudoHeader
	if cfg != nil {
		prefer = cfg.Checksum
	}
	form, err := VerifyChecksum(msg, m.Version, fam, ip.Src, ip.Dst, prefer)
	if err != nil {
		return res, err
	}
	res.Form = form

	strict := false
	if lookup != nil {
		// 6: VRID configured for this interface and family [5798-7.1-e].
		if cfg == nil {
			return res, ErrVRIDNotConfigured
		}
		if cfg.Version != m.Version && !(cfg.V2Compat && m.Version == 2) {
			return res, ErrVersion
		}
		if cfg.Local.IsValid() && ip.Src == cfg.Local {
			return res, ErrOwnAdvert
		}
		if err := checkPeer(cfg, ip); err != nil {
			return res, err
		}
		res.Config, strict = cfg, cfg.Strict
		// 7: the owner does not expect adverts. v2 discards [3768-7.1-e];
		// v3 logs only [E8298], also for the v2 adverts it hears in the
		// interoperation mode.
		if cfg.Priority == PriorityOwner {
			if cfg.Version == 2 {
				return res, ErrOwnerConflict
			}
			res.Warnings |= WarnOwnerConflict
		}
		if m.Version == 2 {
			if err := checkAuth(m, cfg); err != nil {
				return res, err
			}
		}
	} else if m.Version == 2 && m.AuthType > AuthIPsecAH {
		return res, ErrAuthTypeInvalid // [3768-5.3.6-a]
	}
	// 8: at least one address [E8299][IMPL-8].
	if len(m.Addresses) == 0 {
		if strict {
			return res, ErrZeroCount
		}
		res.Warnings |= WarnZeroCount
	}
	// 9: a zero interval would make Backups expire at once [E8301].
	if m.Interval == 0 {
		return res, ErrZeroInterval
	}
	// 10: IPv6 lists start with the virtual link-local [E8300][5798-5.2.9-a].
	if fam == IPv6 && len(m.Addresses) > 0 && !m.Addresses[0].IsLinkLocalUnicast() {
		if strict {
			return res, ErrFirstNotLinkLocal
		}
		res.Warnings |= WarnFirstNotLinkLocal
	}
	if cfg == nil {
		return res, nil
	}
	// 11: address list [5798-7.1-h]; v2 drops a non-owner's mismatch, but
	// only in strict mode, as keepalived and FRR [3768-7.1-h][IMPL-10].
	if !sameAddressSet(m.Addresses, cfg.Addresses) {
		if m.Version == 2 && strict && m.Priority != PriorityOwner {
			return res, ErrAddressList
		}
		res.Warnings |= WarnAddressList
	}
	// 12: interval: v2 discards [3768-7.1-i], v3 reports [9568-7.1-c], as
	// does a v3 router hearing v2 in interoperation mode [9568-8.4.2-a].
	if m.Interval != cfg.Interval {
		if cfg.Version == 2 {
			return res, ErrIntervalMismatch
		}
		res.Warnings |= WarnIntervalMismatch
	}
	return res, nil
}

// checkPeer applies the unicast rules of spec §2.1.
func checkPeer(cfg *Config, ip IPHeader) error {
	multicast := ip.Dst.IsMulticast()
	if len(cfg.Peers) == 0 {
		if !multicast {
			return ErrDestination
		}
		return nil
	}
	if multicast {
		return ErrDestination
	}
	for _, p := range cfg.Peers {
		if p == ip.Src {
			return nil
		}
	}
	return ErrNotPeer
}

// checkAuth is the VRRPv2 authentication check [3768-7.1-f][3768-5.3.6-a].
func checkAuth(m *Message, cfg *Config) error {
	switch {
	case m.AuthType > AuthIPsecAH:
		return ErrAuthTypeInvalid
	case m.AuthType != cfg.AuthType:
		return ErrAuthTypeMismatch
	case m.AuthType == AuthPassword && m.AuthData != cfg.AuthData:
		return ErrAuthFailure
	}
	return nil
}

// sameAddressSet reports whether a and b hold the same addresses, in any
// order. Lists are short (at most 255), so the quadratic scan beats a map
// and does not allocate.
func sameAddressSet(a, b []netip.Addr) bool {
	if len(a) != len(b) {
		return false
	}
	if slices.Equal(a, b) { // the usual case: everyone sends config order [IMPL-11]
		return true
	}
outer:
	for _, x := range a {
		for _, y := range b {
			if x == y {
				continue outer
			}
		}
		return false
	}
	for _, y := range b {
		found := false
		for _, x := range a {
			if x == y {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
