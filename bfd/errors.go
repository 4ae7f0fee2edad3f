package bfd

import "errors"

// Check numbers the receive checks, so drop counters are arrays indexed by
// it. CheckOther stands for an error that is no receive check.
type Check uint8

const (
	CheckOther Check = iota
	CheckTruncated
	CheckVersion
	CheckLength
	CheckDetectMult
	CheckMultipoint
	CheckMyDiscr
	CheckYourDiscr
	CheckPollFinal
	CheckAuth
	// Checks of the receive path outside the codec, counted with the same
	// index: GTSM and no session for the packet.
	CheckTTL
	CheckNoSession
	// NumChecks sizes arrays indexed by Check.
	NumChecks
)

var checkNames = [NumChecks]string{
	CheckOther: "other", CheckTruncated: "truncated", CheckVersion: "version", CheckLength: "length",
	CheckDetectMult: "detect_mult", CheckMultipoint: "multipoint", CheckMyDiscr: "my_discriminator",
	CheckYourDiscr: "your_discriminator", CheckPollFinal: "poll_final", CheckAuth: "auth", CheckTTL: "ttl",
	CheckNoSession: "no_session",
}

// String is the short stable token of the check, for labels and logs.
func (c Check) String() string {
	if c < NumChecks {
		return checkNames[c]
	}
	return checkNames[CheckOther]
}

type checkError struct {
	check Check
	msg   string
}

func (e *checkError) Error() string { return e.msg }

// The sentinels, one per receive check (RFC 5880 §6.8.6 unless noted).
var (
	ErrTruncated  error = &checkError{CheckTruncated, "bfd: shorter than a control packet"}
	ErrVersion    error = &checkError{CheckVersion, "bfd: version is not 1"}
	ErrLength     error = &checkError{CheckLength, "bfd: length field below the minimum or beyond the payload"}
	ErrDetectMult error = &checkError{CheckDetectMult, "bfd: detect multiplier is zero"}
	ErrMultipoint error = &checkError{CheckMultipoint, "bfd: multipoint bit set"}
	ErrMyDiscr    error = &checkError{CheckMyDiscr, "bfd: my discriminator is zero"}
	ErrYourDiscr  error = &checkError{CheckYourDiscr, "bfd: your discriminator is zero in state Init or Up"}
	ErrPollFinal  error = &checkError{CheckPollFinal, "bfd: both poll and final set (RFC 5880 §6.5)"}
	ErrAuth       error = &checkError{CheckAuth, "bfd: authentication present, not implemented"}
	ErrTTL        error = &checkError{CheckTTL, "bfd: ttl or hop limit is not 255 (RFC 5881 §5)"}
	ErrNoSession  error = &checkError{CheckNoSession, "bfd: no session for this packet"}
)

// CheckOf returns the check a sentinel of this package stands for, also
// wrapped, or CheckOther. It does not allocate.
func CheckOf(err error) Check {
	for err != nil {
		if c, ok := err.(*checkError); ok {
			return c.check
		}
		err = errors.Unwrap(err)
	}
	return CheckOther
}
