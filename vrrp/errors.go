package vrrp

import "errors"

// Check numbers the receive checks, so counters are arrays indexed by it and
// a dropped packet costs no map lookup or allocation. CheckOther stands for
// errors that are not receive-check failures.
type Check uint8

const (
	CheckOther Check = iota
	CheckTruncated
	CheckTTL
	CheckVersion
	CheckType
	CheckChecksum
	CheckVRID
	CheckOwnAdvert
	CheckNotPeer
	CheckDestination
	CheckOwnerConflict
	CheckAuthTypeInvalid
	CheckAuthTypeMismatch
	CheckAuthFailure
	CheckZeroCount
	CheckZeroInterval
	CheckFirstNotLinkLocal
	CheckAddressList
	CheckIntervalMismatch
	// NumChecks sizes arrays indexed by Check.
	NumChecks
)

var checkNames = [NumChecks]string{
	CheckOther: "other", CheckTruncated: "truncated", CheckTTL: "ttl", CheckVersion: "version", CheckType: "type",
	CheckChecksum: "checksum", CheckVRID: "vrid", CheckOwnAdvert: "own_advert", CheckNotPeer: "not_peer",
	CheckDestination: "destination", CheckOwnerConflict: "owner_conflict", CheckAuthTypeInvalid: "auth_type_invalid",
	CheckAuthTypeMismatch: "auth_type_mismatch", CheckAuthFailure: "auth_failure", CheckZeroCount: "zero_count",
	CheckZeroInterval: "zero_interval", CheckFirstNotLinkLocal: "first_not_link_local", CheckAddressList: "address_list",
	CheckIntervalMismatch: "interval_mismatch",
}

// String is the short stable token of the check ("ttl", "checksum", ...),
// for metric labels and structured logs.
func (c Check) String() string {
	if c < NumChecks {
		return checkNames[c]
	}
	return checkNames[CheckOther]
}

// Err returns the sentinel error of the check, nil for CheckOther.
func (c Check) Err() error {
	if c == CheckOther || c >= NumChecks {
		return nil
	}
	return checkErrs[c]
}

// CheckOf returns the check a sentinel error of this package stands for,
// also wrapped, or CheckOther. It does not allocate (errors.As would: its
// target escapes).
func CheckOf(err error) Check {
	for err != nil {
		if ce, ok := err.(*checkError); ok {
			return ce.check
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			break
		}
		err = u.Unwrap()
	}
	return CheckOther
}

// Reason returns the name of the check err failed ("ttl", "checksum", ...)
// for counters and logs, or "" for errors not from a check. It does not
// allocate.
func Reason(err error) string {
	if c := CheckOf(err); c != CheckOther {
		return c.String()
	}
	return ""
}

// checkError is a receive-check failure: the check names it for metric
// labels and structured logs; Error is the sentence for people.
type checkError struct {
	check Check
	text  string
}

func (e *checkError) Error() string { return "vrrp: " + e.text }

// checkErrs holds the sentinel of each check, for Check.Err.
var checkErrs [NumChecks]error

func newCheckError(c Check, text string) error {
	e := &checkError{check: c, text: text}
	checkErrs[c] = e
	return e
}

// Receive-check failures, one per check of spec §7. Validate returns exactly
// one of them (unwrapped, so == works) when an advert must be discarded; the
// non-fatal ones are also reported as Warnings when the spec says to keep the
// advert.
var (
	// ErrTruncated: the payload is shorter than the fixed header, or than the
	// address count (and, for v2, the authentication data) requires
	// [5798-7.1-c][3768-7.1-c]. Longer payloads are accepted; trailing bytes are
	// ignored [IMPL-9].
	ErrTruncated = newCheckError(CheckTruncated, "packet shorter than its header and address count require")
	// ErrTTL: TTL or hop limit is not 255 [5798-7.1-a][3768-7.1-a].
	ErrTTL = newCheckError(CheckTTL, "TTL/hop limit is not 255")
	// ErrVersion: the version is neither 2 nor 3, is 2 over IPv6, or differs
	// from the configured version of the virtual router [5798-7.1-b][3768-7.1-b].
	ErrVersion = newCheckError(CheckVersion, "unsupported or unexpected VRRP version")
	// ErrType: the type is not 1 (ADVERTISEMENT) [9568-7.1-b][3768-5.3.2-a].
	ErrType = newCheckError(CheckType, "unknown VRRP message type")
	// ErrChecksum: no accepted checksum form matches [5798-7.1-d][3768-7.1-d].
	ErrChecksum = newCheckError(CheckChecksum, "bad checksum")
	// ErrVRIDNotConfigured: no virtual router with this VRID and family is
	// configured on the receiving interface [5798-7.1-e][3768-7.1-e].
	ErrVRIDNotConfigured = newCheckError(CheckVRID, "VRID not configured")
	// ErrOwnAdvert: the advert carries our own source address; looped or
	// reflected copies must not reach the state machine [IMPL-6].
	ErrOwnAdvert = newCheckError(CheckOwnAdvert, "advert sent by this router")
	// ErrNotPeer: a unicast virtual router received an advert from an address
	// that is not one of its configured peers (spec §2.1).
	ErrNotPeer = newCheckError(CheckNotPeer, "sender is not a configured unicast peer")
	// ErrDestination: a unicast virtual router received a multicast advert, or
	// a multicast one a unicast advert (spec §2.1).
	ErrDestination = newCheckError(CheckDestination, "unicast/multicast destination does not match the configuration")
	// ErrOwnerConflict: we own the addresses (priority 255) and another router
	// advertises them. VRRPv2 discards [3768-7.1-e]; VRRPv3 only reports it,
	// per erratum E8298, so two misconfigured owners still elect one.
	ErrOwnerConflict = newCheckError(CheckOwnerConflict, "advert received by the address owner")
	// ErrAuthTypeInvalid: v2 Auth Type is not 0, 1 or 2 [3768-5.3.6-a].
	ErrAuthTypeInvalid = newCheckError(CheckAuthTypeInvalid, "unknown VRRPv2 authentication type")
	// ErrAuthTypeMismatch: v2 Auth Type differs from the configured one
	// [3768-7.1-f]. An IPsec AH (type 2) advert always lands here: AH is not
	// supported [IMPL-1].
	ErrAuthTypeMismatch = newCheckError(CheckAuthTypeMismatch, "VRRPv2 authentication type differs from the configured one")
	// ErrAuthFailure: v2 simple password (type 1) differs [3768-7.1-f].
	ErrAuthFailure = newCheckError(CheckAuthFailure, "VRRPv2 password mismatch")
	// ErrZeroCount: the address count is 0 [E8299]. Discarded in strict mode,
	// reported otherwise (non-strict keepalived sends it) [IMPL-8].
	ErrZeroCount = newCheckError(CheckZeroCount, "address count is 0")
	// ErrZeroInterval: the advertisement interval is 0 [E8301]. Always
	// discarded: it would make Backups expire at once.
	ErrZeroInterval = newCheckError(CheckZeroInterval, "advertisement interval is 0")
	// ErrFirstNotLinkLocal: an IPv6 advert whose first address is not
	// link-local [E8300][5798-5.2.9-a]. Discarded in strict mode, reported
	// otherwise (FRR never lists a link-local address) [IMPL-8].
	ErrFirstNotLinkLocal = newCheckError(CheckFirstNotLinkLocal, "first IPv6 address is not link-local")
	// ErrAddressList: the address count or set differs from the configured
	// virtual addresses [5798-7.1-h][3768-7.1-h]. Reported, and discarded only
	// for VRRPv2 in strict mode from a non-owner sender [IMPL-10].
	ErrAddressList = newCheckError(CheckAddressList, "address list differs from the configured one")
	// ErrIntervalMismatch: the advertised interval differs from the local one.
	// VRRPv2 discards [3768-7.1-i]; VRRPv3 only reports it [9568-7.1-c].
	ErrIntervalMismatch = newCheckError(CheckIntervalMismatch, "advertisement interval differs from the configured one")
)

// Encoding failures: a Message that cannot be put on the wire.
var (
	ErrBadFamily        = errors.New("vrrp: addresses must all be of the message's family (VRRPv2 carries IPv4 only)")
	ErrTooManyAddresses = errors.New("vrrp: more than 255 addresses")
	ErrIntervalRange    = errors.New("vrrp: interval not representable: VRRPv3 takes 10ms..40.95s in 10ms steps, VRRPv2 1s..255s in whole seconds")
	ErrAuthAH           = errors.New("vrrp: authentication type 2 (IPsec AH) is not supported: RFC 3768 removed it; use type 1 (password) or none")
	ErrPseudoHeader     = errors.New("vrrp: checksum needs the IP source and destination of the message's family")
)
