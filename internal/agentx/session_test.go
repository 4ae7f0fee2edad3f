package agentx

import (
	"context"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"
)

// master is a fake AgentX master on a unix socket.
type master struct {
	t  *testing.T
	ln net.Listener
}

func newMaster(t *testing.T) (*master, string) {
	path := filepath.Join(t.TempDir(), "master")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return &master{t: t, ln: ln}, path
}

func (m *master) accept() net.Conn {
	m.t.Helper()
	_ = m.ln.(*net.UnixListener).SetDeadline(time.Now().Add(10 * time.Second))
	c, err := m.ln.Accept()
	if err != nil {
		m.t.Fatal(err)
	}
	m.t.Cleanup(func() { c.Close() })
	return c
}

func readPDU(t *testing.T, c net.Conn) PDU {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	h := make([]byte, HeaderLen)
	if _, err := io.ReadFull(c, h); err != nil {
		t.Fatal(err)
	}
	n, err := PayloadLen(h)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, HeaderLen+n)
	copy(b, h)
	if _, err := io.ReadFull(c, b[HeaderLen:]); err != nil {
		t.Fatal(err)
	}
	p, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func send(t *testing.T, c net.Conn, p *PDU) {
	t.Helper()
	if _, err := c.Write(Encode(nil, p)); err != nil {
		t.Fatal(err)
	}
}

// handshake answers the Open and the Registers, checking what they ask.
func (m *master) handshake(c net.Conn, session uint32, subtrees int) {
	t := m.t
	t.Helper()
	open := readPDU(t, c)
	if open.Type != TypeOpen || string(open.Descr) != "test" {
		t.Fatalf("first PDU %+v, want Open", open)
	}
	send(t, c, &PDU{Type: TypeResponse, SessionID: session, PacketID: open.PacketID})
	for range subtrees {
		reg := readPDU(t, c)
		if reg.Type != TypeRegister || reg.SessionID != session {
			t.Fatalf("PDU %+v, want Register in session %d", reg, session)
		}
		send(t, c, &PDU{Type: TypeResponse, SessionID: session, PacketID: reg.PacketID})
	}
}

func startAgent(t *testing.T, path string) *Agent {
	return startAgentPing(t, path, 0)
}

func startAgentPing(t *testing.T, path string, ping time.Duration) *Agent {
	view := NewView([]VarBind{{Type: Integer, Name: OID{1, 3, 6, 1, 2, 1, 68, 1, 1, 0}, Int: 2}}, nil)
	a := New(Config{Address: path, Descr: "test", Subtrees: []OID{{1, 3, 6, 1, 2, 1, 68}}, Ping: ping,
		View: func() *View { return view }, Backoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, Timeout: 5 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return a
}

// The subagent opens a session, registers, answers a GetNext and a Set
// (refused: read-only), sends a notification, and after the master goes
// away opens a new session [2741-7.1].
func TestSession(t *testing.T) {
	m, path := newMaster(t)
	a := startAgent(t, path)
	c := m.accept()
	m.handshake(c, 42, 1)

	send(t, c, &PDU{Type: TypeGetNext, SessionID: 42, TransactionID: 1, PacketID: 9, Ranges: []SearchRange{{Start: OID{1, 3, 6, 1, 2, 1, 68}}}})
	r := readPDU(t, c)
	if r.Type != TypeResponse || r.PacketID != 9 || r.TransactionID != 1 || len(r.VarBinds) != 1 || r.VarBinds[0].Int != 2 {
		t.Fatalf("GetNext answer %+v", r)
	}
	send(t, c, &PDU{Type: TypeTestSet, SessionID: 42, TransactionID: 2, PacketID: 10, VarBinds: []VarBind{{Type: Integer, Name: OID{1, 3, 6, 1, 2, 1, 68, 1, 1, 0}}}})
	if r := readPDU(t, c); r.Error != NotWritable || r.Index != 1 {
		t.Fatalf("TestSet answer %+v, want notWritable", r)
	}
	// Answering requests, the session is up: notifications are queued.
	if !a.Connected() {
		t.Fatal("not connected while answering")
	}
	a.Notify(OID{1, 3, 6, 1, 2, 1, 68, 0, 1}, []VarBind{{Type: IPAddress, Name: OID{1, 3, 6, 1, 2, 1, 68, 1, 3, 1, 7, 4, 10}, Bytes: []byte{10, 77, 0, 1}}})
	n := readPDU(t, c)
	if n.Type != TypeNotify || len(n.VarBinds) != 3 || n.VarBinds[1].OID.String() != "1.3.6.1.2.1.68.0.1" || n.VarBinds[0].Type != TimeTicks {
		t.Fatalf("notification %+v", n)
	}

	// snmpd restarts: a new session.
	c.Close()
	c = m.accept()
	m.handshake(c, 43, 1)
	send(t, c, &PDU{Type: TypeGet, SessionID: 43, PacketID: 1, Ranges: []SearchRange{{Start: OID{1, 3, 6, 1, 2, 1, 68, 1, 1, 0}}}})
	if r := readPDU(t, c); len(r.VarBinds) != 1 || r.VarBinds[0].Int != 2 {
		t.Fatalf("Get after reconnecting %+v", r)
	}
}

// A master sending garbage gets a Close (parseError) and a new session; one
// announcing a payload over the limit is never read further [2741-7.1.2].
func TestSessionBadMaster(t *testing.T) {
	m, path := newMaster(t)
	startAgent(t, path)
	for _, bad := range [][]byte{
		Encode(nil, &PDU{Type: TypeGet, Ranges: []SearchRange{{Start: OID{1}}}})[:HeaderLen], // then the payload never comes: see below
		{1, 5, 0x10, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xfc},          // 2 GiB announced
		{2, 5, 0x10, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},                      // version 2
		{1, 5, 0x10, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0x81, 0, 0, 0},       // OID of 129
	} {
		c := m.accept()
		m.handshake(c, 1, 1)
		if len(bad) == HeaderLen {
			// A header whose payload is cut by the master closing.
			send(t, c, &PDU{Type: TypeGet, SessionID: 1})
			readPDU(t, c)
			_, _ = c.Write(bad[:HeaderLen-3])
			c.Close()
			continue
		}
		if _, err := c.Write(bad); err != nil {
			t.Fatal(err)
		}
		cl := readPDU(t, c)
		if cl.Type != TypeClose || cl.Reason != CloseParseError {
			t.Fatalf("after %x: %+v, want Close parseError", bad, cl)
		}
	}
	c := m.accept()
	m.handshake(c, 2, 1)
}

// Requests are answered within the PDU limit whatever the master asks: too
// many ranges, or names so long the answer would not fit, are genErr.
func TestHandleBounded(t *testing.T) {
	a := New(Config{View: testView})
	long := make(OID, MaxSubIDs)
	for i := range long {
		long[i] = 4000000000
	}
	many := make([]SearchRange, 200)
	for i := range many {
		many[i] = SearchRange{Start: long}
	}
	for _, tc := range []struct {
		name string
		p    PDU
		err  uint16
	}{
		{"200 long names echoed: over 64 KiB", PDU{Type: TypeGetNext, Ranges: many}, GenErr},
		{"more ranges than an answer holds", PDU{Type: TypeGet, Ranges: make([]SearchRange, maxVarBinds+1)}, GenErr},
		{"non-default context", PDU{Type: TypeGet, Context: []byte("c"), Ranges: many[:1]}, UnsupportedContext},
		{"a bulk of 65535 repetitions", PDU{Type: TypeGetBulk, MaxRepetitions: 65535, Ranges: []SearchRange{{Start: OID{1}}}}, NoError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.handle(&tc.p)
			if r.Error != tc.err {
				t.Fatalf("error %d, want %d", r.Error, tc.err)
			}
			if n := len(Encode(nil, r)); n > HeaderLen+MaxPayload {
				t.Fatalf("answer of %d bytes", n)
			}
		})
	}
}

// A master that talks without answering the Open is left after a bounded
// number of PDUs, and the subagent tries again.
func TestSessionChattyMaster(t *testing.T) {
	m, path := newMaster(t)
	startAgent(t, path)
	c := m.accept()
	open := readPDU(t, c)
	for i := range 16 { // all read before the subagent gives up
		send(t, c, &PDU{Type: TypeResponse, PacketID: open.PacketID + 1 + uint32(i)})
	}
	c = m.accept()
	m.handshake(c, 3, 1)
}

// A quiet master is pinged; one that does not answer the ping is left for a
// new session [2741-6.2.14].
func TestSessionPing(t *testing.T) {
	m, path := newMaster(t)
	startAgentPing(t, path, 50*time.Millisecond)
	c := m.accept()
	m.handshake(c, 5, 1)
	p := readPDU(t, c)
	if p.Type != TypePing || p.SessionID != 5 {
		t.Fatalf("%+v, want a Ping", p)
	}
	send(t, c, &PDU{Type: TypeResponse, SessionID: 5, PacketID: p.PacketID}) // answered: the session stays
	if p := readPDU(t, c); p.Type != TypePing {
		t.Fatalf("%+v, want another Ping", p)
	}
	c = m.accept() // unanswered: a new session
	m.handshake(c, 6, 1)
}
