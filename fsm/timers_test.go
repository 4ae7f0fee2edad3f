package fsm

import (
	"math"
	"testing"
	"time"
)

// Spec §5.2 worked values, plus priority 1 and 40.95 s, as literal
// nanoseconds (worked out by hand, not by the formula under test). Only
// priority 1 at 10 ms and 40.95 s has a fraction of a nanosecond (.5),
// floored.
func TestSkewAndMasterDownWorkedValues(t *testing.T) {
	for _, tc := range []struct {
		prio     uint8
		interval time.Duration
		skew     time.Duration
		down     time.Duration
	}{
		{1, 10 * time.Millisecond, 9960937, 39960937},
		{100, 10 * time.Millisecond, 6093750, 36093750}, // 6.09375 ms, FRR: 0
		{150, 10 * time.Millisecond, 4140625, 34140625},
		{254, 10 * time.Millisecond, 78125, 30078125},
		{1, 100 * time.Millisecond, 99609375, 399609375},
		{100, 100 * time.Millisecond, 60937500, 360937500},
		{150, 100 * time.Millisecond, 41406250, 341406250},
		{254, 100 * time.Millisecond, 781250, 300781250},
		{1, time.Second, 996093750, 3996093750},
		{100, time.Second, 609375000, 3609375000},
		{150, time.Second, 414062500, 3414062500},
		{254, time.Second, 7812500, 3007812500},
		{1, 40950 * time.Millisecond, 40790039062, 163640039062},
		{100, 40950 * time.Millisecond, 24953906250, 147803906250},
		{150, 40950 * time.Millisecond, 16955859375, 139805859375},
		{254, 40950 * time.Millisecond, 319921875, 123169921875},
	} {
		// [5798-6.1-d] [5798-6.1-e]
		if got := SkewTime(3, tc.prio, tc.interval); got != tc.skew {
			t.Errorf("[5798-6.1-d] v3 SkewTime(P=%d, %v) = %d, want %d", tc.prio, tc.interval, got, tc.skew)
		}
		if got := MasterDownInterval(3, tc.prio, tc.interval); got != tc.down {
			t.Errorf("[5798-6.1-e] v3 MasterDownInterval(P=%d, %v) = %d, want %d", tc.prio, tc.interval, got, tc.down)
		}
		// v2 at 1 s gives the v3 numbers at 100 cs [3768-6.1-a] [3768-6.1-b].
		if tc.interval == time.Second {
			if got := SkewTime(2, tc.prio, time.Second); got != tc.skew {
				t.Errorf("[3768-6.1-a] v2 SkewTime(P=%d) = %d, want %d", tc.prio, got, tc.skew)
			}
			if got := MasterDownInterval(2, tc.prio, time.Second); got != tc.down {
				t.Errorf("[3768-6.1-b] v2 MasterDownInterval(P=%d) = %d, want %d", tc.prio, got, tc.down)
			}
		}
	}
}

// [3768-6.1-a]: the v2 skew ignores the interval; v3 scales with it.
func TestV2SkewIgnoresInterval(t *testing.T) {
	if got, want := SkewTime(2, 100, 3*time.Second), 609375*time.Microsecond; got != want {
		t.Errorf("v2 skew at 3 s = %v, want %v", got, want)
	}
	if got, want := MasterDownInterval(2, 100, 3*time.Second), 9609375*time.Microsecond; got != want {
		t.Errorf("v2 down at 3 s = %v, want %v", got, want)
	}
	if got, want := SkewTime(3, 100, 3*time.Second), 1828125*time.Microsecond; got != want {
		t.Errorf("v3 skew at 300 cs = %v, want %v", got, want)
	}
}

// Strictly higher priority gives a strictly shorter Master_Down_Interval at
// every representable interval, 10 ms included, where centisecond truncation
// (FRR) makes all priorities equal.
func TestMasterDownStrictlyDecreasingInPriority(t *testing.T) {
	check := func(version uint8, iv time.Duration) {
		prev := MasterDownInterval(version, 1, iv)
		for p := 2; p <= 255; p++ {
			d := MasterDownInterval(version, uint8(p), iv)
			if d >= prev {
				t.Fatalf("v%d interval %v: down(P=%d)=%d not < down(P=%d)=%d", version, iv, p, d, p-1, prev)
			}
			if d <= 3*iv || d > 4*iv {
				t.Fatalf("v%d interval %v P=%d: down %d outside (3I, 4I]", version, iv, p, d)
			}
			prev = d
		}
	}
	for cs := 1; cs <= 4095; cs++ {
		check(3, time.Duration(cs)*10*time.Millisecond)
	}
	for s := 1; s <= 255; s++ {
		check(2, time.Duration(s)*time.Second)
	}
}

// No overflow for any interval, however absurd; the formulas saturate.
func TestTimerFormulasNoOverflow(t *testing.T) {
	for _, iv := range []time.Duration{0, -1, math.MinInt64, 1, 255, 256, 257, math.MaxInt64 / 4, math.MaxInt64 / 3, math.MaxInt64 - 1, math.MaxInt64} {
		for _, p := range []uint8{0, 1, 100, 254, 255} {
			s := SkewTime(3, p, iv)
			d := MasterDownInterval(3, p, iv)
			if s < 0 || d < 0 || d < s {
				t.Errorf("interval %d P=%d: skew %d down %d", iv, p, s, d)
			}
			if iv > 0 && s > iv {
				t.Errorf("interval %d P=%d: skew %d exceeds the interval", iv, p, s)
			}
			if iv > 0 && iv <= math.MaxInt64/4 && d != 3*iv+s {
				t.Errorf("interval %d P=%d: down %d != 3I+skew", iv, p, d)
			}
		}
	}
	if d := MasterDownInterval(3, 1, math.MaxInt64); d != math.MaxInt64 {
		t.Errorf("no saturation: %d", d)
	}
	// Exactness for a large interval with a remainder, via the identity
	// floor(255·I/256) = I − ceil(I/256).
	iv := time.Duration(math.MaxInt64 - 1)
	want := iv - iv/256
	if iv%256 != 0 {
		want--
	}
	if got := SkewTime(3, 1, iv); got != want {
		t.Errorf("SkewTime(1, MaxInt64-1) = %d, want %d", got, want)
	}
}
