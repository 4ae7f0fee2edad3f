package vrrp

import "testing"

// Every receive-check sentinel has its own Check, named by Reason, and
// CheckOf finds it without allocating: the daemon indexes its counters by it
// for every dropped packet.
func TestCheckOf(t *testing.T) {
	sentinels := []error{ErrTruncated, ErrTTL, ErrVersion, ErrType, ErrChecksum, ErrVRIDNotConfigured, ErrOwnAdvert,
		ErrNotPeer, ErrDestination, ErrOwnerConflict, ErrAuthTypeInvalid, ErrAuthTypeMismatch, ErrAuthFailure,
		ErrZeroCount, ErrZeroInterval, ErrFirstNotLinkLocal, ErrAddressList, ErrIntervalMismatch}
	seen := map[Check]bool{}
	for _, err := range sentinels {
		c := CheckOf(err)
		if c == CheckOther || seen[c] {
			t.Fatalf("%v: check %v (duplicate or unnamed)", err, c)
		}
		seen[c] = true
		if c.String() != Reason(err) {
			t.Fatalf("%v: Check %q, Reason %q", err, c, Reason(err))
		}
	}
	if len(seen) != int(NumChecks)-1 {
		t.Fatalf("%d sentinels for %d checks", len(seen), NumChecks-1)
	}
	if CheckOf(ErrBadFamily) != CheckOther || CheckOf(nil) != CheckOther {
		t.Fatal("a non-check error maps to a check")
	}
	if n := testing.AllocsPerRun(100, func() { _ = CheckOf(ErrChecksum) }); n != 0 {
		t.Fatalf("CheckOf allocates %v", n)
	}
}
