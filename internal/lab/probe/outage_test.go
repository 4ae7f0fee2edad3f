package probe

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(ms ...float64) []time.Time {
	out := make([]time.Time, len(ms))
	for i, m := range ms {
		out[i] = t0.Add(msec(m))
	}
	return out
}

func msec(m float64) time.Duration { return time.Duration(m * float64(time.Millisecond)) }

// The one definition: from the last reply before the failure to the first
// after it. Counting from the failure instead (the interop prober's old
// Outage) gives 1 ms less in "failure between echoes" and "silence before
// the window", and 5 ms less in "no recovery"; so does counting only the
// replies inside the window.
func TestLongestGap(t *testing.T) {
	for _, tc := range []struct {
		name      string
		replies   []time.Time
		from, to  float64 // the window: the failure and the end of observation
		want      time.Duration
		gapFrom   float64
		recovered bool
	}{
		// Echoes every 3 ms; the cable is pulled at 10 ms, between the
		// reply at 9 and the next echo; the first reply after the takeover
		// comes at 350 ms. The outage is 9 → 350.
		{"failure between echoes", at(0, 3, 6, 9, 350, 353, 356), 10, 400, msec(341), 9, true},
		// The failure happens 1 ms into a silence that began at 3 ms.
		{"silence before the window", at(0, 3, 300, 303), 4, 400, msec(297), 3, true},
		// No reply before the window at all: the silence starts at from.
		{"no reply before", at(100, 103), 10, 110, msec(90), 10, true},
		// Nothing after the silence: it runs to the end, not recovered.
		{"no recovery", at(0, 3), 8, 500, msec(497), 3, false},
		{"nothing at all", nil, 0, 100, msec(100), 0, false},
		// A reply after the window does not end the silence inside it.
		{"reply after the window", at(0, 3, 6, 900), 7, 100, msec(94), 6, false},
		// No failure: the longest gap is one probe interval.
		{"no failure", at(0, 3, 6, 9, 12), 1, 12, msec(3), 0, true},
		// A shorter silence after the outage does not hide it.
		{"two silences", at(0, 3, 60, 63, 90, 93), 4, 93, msec(57), 3, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := LongestGap(tc.replies, t0.Add(msec(tc.from)), t0.Add(msec(tc.to)))
			if g.Len != tc.want || g.Recovered != tc.recovered || !g.From.Equal(t0.Add(msec(tc.gapFrom))) {
				t.Fatalf("LongestGap = %v from %v recovered %v; want %v from %v recovered %v",
					g.Len, g.From.Sub(t0), g.Recovered, tc.want, msec(tc.gapFrom), tc.recovered)
			}
			if g.To.Sub(g.From) != g.Len {
				t.Fatalf("To - From = %v, Len %v", g.To.Sub(g.From), g.Len)
			}
		})
	}
}

// feed plays a prober's history into a target: echoes every 3 ms from 0 to
// end ms, answered except those sent in (lost, back), each reply 0.1 ms
// after its request, from mac1 before the loss and mac2 after.
func feed(end, lost, back int) *Target {
	tg := &Target{Addr: netip.MustParseAddr("10.77.0.10"), Every: 3 * time.Millisecond, wake: make(chan struct{})}
	for ms := 0; ms <= end; ms += 3 {
		sent := t0.Add(time.Duration(ms) * time.Millisecond)
		tg.sent = append(tg.sent, sent)
		tg.answered = append(tg.answered, false)
		if ms > lost && ms < back {
			continue
		}
		mac := "02:00:00:00:00:01"
		if ms >= back {
			mac = "02:00:00:00:00:02"
		}
		tg.record(sent.Add(100*time.Microsecond), uint16(len(tg.sent)-1), mac)
	}
	return tg
}

// A target's Outage applies LongestGap to its replies, with the reply
// before the window as the anchor, and counts the window's requests,
// answers and answering MACs.
func TestTargetOutage(t *testing.T) {
	tg := feed(600, 100, 400) // last answered at 99, first after at 402
	o := tg.Outage(t0.Add(msec(101)), t0.Add(msec(500)))
	if o.Len != msec(303) || !o.Recovered || !o.From.Equal(t0.Add(msec(99.1))) {
		t.Errorf("outage %v", o)
	}
	// Requests at 102..498: 133; answered from 402: 33.
	if o.Sent != 133 || o.Recv != 33 {
		t.Errorf("sent %d recv %d, want 133 and 33", o.Sent, o.Recv)
	}
	if !slices.Equal(o.MACs, []string{"02:00:00:00:00:02"}) {
		t.Errorf("MACs %v: the reply before the window is the anchor, not counted", o.MACs)
	}
	before := tg.Outage(t0, t0.Add(msec(99.5)))
	if before.Len != 3*time.Millisecond || before.Recv != 34 || !slices.Equal(before.MACs, []string{"02:00:00:00:00:01"}) {
		t.Errorf("before the loss: %v", before)
	}
	if last, recv, sent := tg.Last(); !last.Equal(t0.Add(msec(600.1))) || recv != 34+67 || sent != 201 {
		t.Errorf("Last = %v %d %d", last.Sub(t0), recv, sent)
	}
	if tg.LastMAC() != "02:00:00:00:00:02" {
		t.Errorf("LastMAC %s", tg.LastMAC())
	}
}

// Replies are filed under the latest request of their sequence number, past
// the 16-bit wrap; a second reply to one request is a duplicate: its MAC
// counts, its answer does not.
func TestRecordSequence(t *testing.T) {
	tg := &Target{wake: make(chan struct{})}
	for i := 0; i < 70000; i++ {
		tg.sent = append(tg.sent, t0.Add(time.Duration(i)*time.Millisecond))
		tg.answered = append(tg.answered, false)
	}
	tg.record(t0.Add(70*time.Second), 69999&0xffff, "a")
	tg.record(t0.Add(70*time.Second+1), 69999&0xffff, "b")
	tg.record(t0.Add(70*time.Second+2), 69998&0xffff, "a")
	if !tg.answered[69999] || !tg.answered[69998] || tg.answered[69999-65536] {
		t.Error("replies filed under the wrong requests")
	}
	if !tg.replies[1].Dup || tg.recv != 2 || len(tg.replies) != 3 {
		t.Errorf("recv %d, replies %+v", tg.recv, tg.replies)
	}
	empty := &Target{wake: make(chan struct{})}
	empty.record(t0, 0, "a") // before any request: not ours
	if len(empty.replies) != 0 {
		t.Error("a reply before any request was kept")
	}
}

func frame4(src [4]byte, typ byte, id, seq uint16) []byte {
	f := make([]byte, 14+20+8)
	copy(f[6:12], []byte{2, 0, 0, 0, 0, 1})
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[14:]
	ip[0], ip[9] = 0x45, 1
	copy(ip[12:16], src[:])
	ip[20] = typ
	binary.BigEndian.PutUint16(ip[24:], id)
	binary.BigEndian.PutUint16(ip[26:], seq)
	return f
}

func frame6(src netip.Addr, typ byte, id, seq uint16) []byte {
	f := make([]byte, 14+40+8)
	copy(f[6:12], []byte{2, 0, 0, 0, 0, 2})
	binary.BigEndian.PutUint16(f[12:], 0x86dd)
	ip := f[14:]
	ip[0], ip[6] = 0x60, 58
	a := src.As16()
	copy(ip[8:24], a[:])
	ip[40] = typ
	binary.BigEndian.PutUint16(ip[44:], id)
	binary.BigEndian.PutUint16(ip[46:], seq)
	return f
}

func TestParseReply(t *testing.T) {
	v6 := netip.MustParseAddr("fd77::10")
	for _, tc := range []struct {
		name string
		f    []byte
		src  netip.Addr
		seq  uint16
		mac  string
		ok   bool
	}{
		{"IPv4 echo reply", frame4([4]byte{10, 77, 0, 10}, 0, 7, 300), netip.MustParseAddr("10.77.0.10"), 300, "02:00:00:00:00:01", true},
		{"IPv6 echo reply", frame6(v6, 129, 7, 9), v6, 9, "02:00:00:00:00:02", true},
		{"IPv4 echo request", frame4([4]byte{10, 77, 0, 10}, 8, 7, 1), netip.Addr{}, 0, "", false},
		{"IPv6 echo request", frame6(v6, 128, 7, 1), netip.Addr{}, 0, "", false},
		{"another prober's", frame4([4]byte{10, 77, 0, 10}, 0, 8, 1), netip.Addr{}, 0, "", false},
		{"truncated", frame4([4]byte{10, 77, 0, 10}, 0, 7, 1)[:40], netip.Addr{}, 0, "", false},
		{"runt", []byte{1, 2, 3}, netip.Addr{}, 0, "", false},
	} {
		src, seq, mac, ok := parseReply(tc.f, 7)
		if src != tc.src || seq != tc.seq || mac != tc.mac || ok != tc.ok {
			t.Errorf("%s: %v %d %q %v, want %v %d %q %v", tc.name, src, seq, mac, ok, tc.src, tc.seq, tc.mac, tc.ok)
		}
	}
}
