package fsm

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"govrrp/vrrp"
)

// Config is one virtual router's parameters (spec §5.1).
type Config struct {
	VRID     uint8       // 1..255 [5798-6.1-a]
	Version  uint8       // 2 or 3
	Family   vrrp.Family // vrrp.IPv4 or vrrp.IPv6; VRRPv2 is IPv4 only
	Priority uint8       // 1..254, or 255 for the address owner [5798-6.1-b]

	// AdvertInterval is Advertisement_Interval: VRRPv3 10ms..40.95s in 10 ms
	// steps [5798-6.1-c] [E8301]; VRRPv2 1s..255s in whole seconds.
	AdvertInterval time.Duration

	// Preempt is Preempt_Mode. The RFC default is true; the zero value here
	// is false, so the configuration layer must supply the default. The
	// owner always preempts, whatever this says [5798-6.1-f].
	Preempt bool
	// PreemptDelay holds preemption off for this long after a Backup first
	// hears a lower-priority Master, at startup or later (keepalived's
	// preempt_delay; our extension, see the package doc).
	PreemptDelay time.Duration
	// Accept is Accept_Mode [5798-6.1-g]. RFC 3768 has none (a non-owner
	// never accepts [3768-6.4.3-b]); like keepalived, govrrp allows it for
	// VRRPv2 too. Reported in Status, enforced by the daemon.
	Accept bool

	// Addresses are the virtual addresses, in configuration order; for IPv6
	// the first is the virtual link-local [5798-5.2.9-a].
	Addresses []netip.Addr
	// Primary is our advert source: the interface's primary IPv4 address or
	// its own IPv6 link-local [5798-7.2-d]. It breaks priority ties
	// [5798-6.4.3-j].
	Primary netip.Addr

	// NoReplyLower turns off the RFC 9568 immediate advert a Master sends when
	// it hears a lower priority [9568-6.4.3-b] [IMPL-7]. The zero value keeps
	// the RFC 9568 behaviour; VRRPv2 never replies [3768-6.4.3-a]. The
	// announcement after hearing another Master stays (docs/CONFORMANCE.md).
	NoReplyLower bool

	// V2Compat is the VRRPv2/v3 interoperation mode of RFC 5798 §8.4
	// (compat.go): a VRRPv3 IPv4 router that also sends and hears VRRPv2
	// [5798-8.4.2-b]. The interval must then be whole seconds [IMPL-15].
	V2Compat bool

	// GroupHold: the router is a member of a sync group, which decides when
	// it becomes Master (keepalived vrrp_sync_can_goto_master): a
	// Master_Down_Timer expiry only makes it want to (WantsMaster), and
	// EventGroupMaster makes it Master once every member wants to or is. A
	// deliberate addition (docs/CONFORMANCE.md). The owner is not held.
	GroupHold bool

	// Successor says what a Backup does when the BFD session to the Master
	// it follows fails (EventMasterDown; draft-ietf-rtgwg-vrrp-bfd-p2p):
	// nothing (SuccessorNone, the zero value: the RFC's timers alone), act
	// as if Master_Down_Timer expired (SuccessorNow), or let it expire
	// after a Skew_Time scaled to BFD's detection time (SuccessorSkew), so
	// the highest-priority Backup goes first among several as after a
	// priority-0 advert [5798-6.4.2-h]. A deliberate addition
	// (docs/CONFORMANCE.md).
	Successor Successor
}

// Successor is a Backup's role when BFD says its Master failed.
type Successor uint8

const (
	SuccessorNone Successor = iota
	SuccessorNow
	SuccessorSkew
)

// Owner reports whether the router owns the virtual addresses.
func (c *Config) Owner() bool { return c.Priority == vrrp.PriorityOwner }

// ErrConfig wraps every configuration error from Config.Check.
var ErrConfig = errors.New("fsm: invalid configuration")

func configErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
}

// ErrRestartNeeded wraps the error of a Reconfigure that cannot be applied
// in place: VRID, Version or Family changed, or Priority moved between the
// owner's 255 and a non-owner value. The caller shuts the router down and
// starts a new one (New, EventShutdown, EventStartup).
var ErrRestartNeeded = errors.New("fsm: configuration change needs a restart")

// inPlace reports the first difference between c (running) and n (new) that
// Reconfigure cannot apply without a restart.
func (c *Config) inPlace(n *Config) error {
	var what string
	switch {
	case n.VRID != c.VRID:
		what = fmt.Sprintf("VRID %d -> %d", c.VRID, n.VRID)
	case n.Version != c.Version:
		what = fmt.Sprintf("version %d -> %d", c.Version, n.Version)
	case n.Family != c.Family:
		what = fmt.Sprintf("family %v -> %v", c.Family, n.Family)
	case n.Owner() != c.Owner():
		// The owner starts as Master, always preempts and always accepts
		// [5798-6.4.1-a] [5798-6.1-f]; it has the VIPs as real addresses.
		what = fmt.Sprintf("priority %d -> %d crosses address ownership", c.Priority, n.Priority)
	default:
		return nil
	}
	return fmt.Errorf("%w: %s", ErrRestartNeeded, what)
}

// Check reports the first parameter out of its range.
func (c *Config) Check() error {
	if c.VRID == 0 {
		return configErr("VRID must be 1..255")
	}
	if c.Priority == 0 {
		return configErr("priority must be 1..255 (0 is only sent on shutdown)")
	}
	switch c.Version {
	case 3:
		if c.Family != vrrp.IPv4 && c.Family != vrrp.IPv6 {
			return configErr("family must be IPv4 or IPv6")
		}
		if c.AdvertInterval < 10*time.Millisecond || c.AdvertInterval > 4095*10*time.Millisecond ||
			c.AdvertInterval%(10*time.Millisecond) != 0 {
			return configErr("VRRPv3 advert interval %v: must be 10ms..40.95s in 10ms steps", c.AdvertInterval)
		}
	case 2:
		if c.Family != vrrp.IPv4 {
			return configErr("VRRPv2 is IPv4 only")
		}
		if c.AdvertInterval < time.Second || c.AdvertInterval > 255*time.Second ||
			c.AdvertInterval%time.Second != 0 {
			return configErr("VRRPv2 advert interval %v: must be 1s..255s in whole seconds", c.AdvertInterval)
		}
	default:
		return configErr("version %d: must be 2 or 3", c.Version)
	}
	if err := c.checkCompat(); err != nil {
		return err
	}
	if c.PreemptDelay < 0 {
		return configErr("negative preempt delay")
	}
	if len(c.Addresses) == 0 || len(c.Addresses) > 255 {
		return configErr("need 1..255 virtual addresses")
	}
	for _, a := range c.Addresses {
		if !a.IsValid() || vrrp.FamilyOf(a) != c.Family {
			return configErr("virtual address %v is not %v", a, c.Family)
		}
	}
	if !c.Primary.IsValid() || vrrp.FamilyOf(c.Primary) != c.Family {
		return configErr("primary address %v is not %v", c.Primary, c.Family)
	}
	return nil
}
