package vrrp

import "fmt"

// AuthType is the VRRPv2 Auth Type field (RFC 2338 §5.3.6; spec §1.2).
// RFC 3768 reserved types 1 and 2; keepalived still sends type 1, so govrrp
// speaks it for interoperability [IMPL-1]. Type 2 (IPsec AH) is refused.
type AuthType uint8

const (
	AuthNone     AuthType = 0 // Auth Data zero on send, ignored on receive [3768-5.3.10-a]
	AuthPassword AuthType = 1 // 8-byte simple text password, zero padded
	AuthIPsecAH  AuthType = 2 // not supported
)

func (t AuthType) String() string {
	switch t {
	case AuthNone:
		return "none"
	case AuthPassword:
		return "pass"
	case AuthIPsecAH:
		return "ah"
	}
	return fmt.Sprintf("unknown(%d)", uint8(t))
}

// Password returns the Auth Data for a type-1 password: its bytes, zero
// padded to 8. Longer passwords are refused rather than truncated, so the
// configuration says what goes on the wire (keepalived truncates silently).
func Password(s string) ([8]byte, error) {
	var d [8]byte
	if len(s) == 0 || len(s) > len(d) {
		return d, fmt.Errorf("vrrp: a VRRPv2 password is 1 to 8 bytes, got %d", len(s))
	}
	copy(d[:], s)
	return d, nil
}
