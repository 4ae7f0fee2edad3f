package vrrp

import (
	"fmt"
	"strings"
	"testing"
)

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
		if c.Err() != err {
			t.Fatalf("%v: Check %v leads to %v", err, c, c.Err())
		}
	}
	if len(seen) != int(NumChecks)-1 {
		t.Fatalf("%d sentinels for %d checks", len(seen), NumChecks-1)
	}
	if CheckOf(ErrBadFamily) != CheckOther || CheckOf(nil) != CheckOther || Reason(ErrBadFamily) != "" || CheckOther.Err() != nil {
		t.Fatal("a non-check error maps to a check")
	}
	if n := testing.AllocsPerRun(100, func() { _ = CheckOf(ErrChecksum) }); n != 0 {
		t.Fatalf("CheckOf allocates %v", n)
	}
}

// Every check has a distinct name and its sentinel, found from the Check
// alone; Reason, the name of an error, finds it through wrapping without
// allocating (the simulator counts every dropped advert by it).
func TestCheckNames(t *testing.T) {
	names := map[string]Check{}
	for c := range NumChecks {
		if prev, dup := names[c.String()]; dup || c.String() == "" {
			t.Fatalf("check %d named %q, as check %d", c, c, prev)
		}
		names[c.String()] = c
		if c == CheckOther {
			continue
		}
		if CheckOf(c.Err()) != c || Reason(c.Err()) != c.String() {
			t.Fatalf("check %v: sentinel %v is check %v, reason %q", c, c.Err(), CheckOf(c.Err()), Reason(c.Err()))
		}
		if w := fmt.Errorf("advert from 10.77.0.2: %w", c.Err()); CheckOf(w) != c || Reason(w) != c.String() {
			t.Fatalf("check %v lost by wrapping: %v, %q", c, CheckOf(w), Reason(w))
		}
	}
	wrapped := fmt.Errorf("advert: %w", ErrTTL)
	for _, err := range []error{ErrChecksum, wrapped, ErrBadFamily} {
		if n := testing.AllocsPerRun(100, func() { _ = Reason(err) }); n != 0 {
			t.Fatalf("Reason(%v) allocates %v", err, n)
		}
	}
}

// A warning is a check that failed but keeps the advert: Warnings names it
// by its Check, whose sentinel is the error to log.
func TestWarningsByCheck(t *testing.T) {
	for _, tc := range []struct {
		w Warnings
		c Check
	}{
		{WarnOwnerConflict, CheckOwnerConflict}, {WarnZeroCount, CheckZeroCount},
		{WarnFirstNotLinkLocal, CheckFirstNotLinkLocal}, {WarnAddressList, CheckAddressList},
		{WarnIntervalMismatch, CheckIntervalMismatch},
	} {
		for c := range NumChecks {
			if tc.w.Has(c) != (c == tc.c) {
				t.Fatalf("warning %v: Has(%v) = %v", tc.c, c, tc.w.Has(c))
			}
		}
		if errs := tc.w.Errors(); len(errs) != 1 || errs[0] != tc.c.Err() {
			t.Fatalf("warning %v: errors %v", tc.c, errs)
		}
	}
}

// The names are on the wire: the reason label of govrrp_discards_total, the
// API's discards and warning_* counters, dashboards built on them. A
// rename must be deliberate.
func TestCheckNamesOnTheWire(t *testing.T) {
	const want = "other truncated ttl version type checksum vrid own_advert not_peer destination owner_conflict " +
		"auth_type_invalid auth_type_mismatch auth_failure zero_count zero_interval first_not_link_local " +
		"address_list interval_mismatch"
	var got []string
	for c := range NumChecks {
		got = append(got, c.String())
	}
	if strings.Join(got, " ") != want {
		t.Fatalf("names %v\n want %s", got, want)
	}
}
