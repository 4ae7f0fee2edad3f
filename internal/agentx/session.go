package agentx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config describes a subagent.
type Config struct {
	// Address of the master: a unix socket path, or tcp:HOST:PORT.
	Address string
	// ID and Descr name the subagent in its Open PDU.
	ID    OID
	Descr string
	// Subtrees are registered at the master; it sends requests for them.
	Subtrees []OID
	// View returns the objects to answer from. It is called once per
	// request and must be quick (a cached snapshot).
	View func() *View
	Log  *slog.Logger
	// Timeout bounds each write, the handshake and the reading of one PDU
	// once its header has arrived. Default 5s.
	Timeout time.Duration
	// Ping: after this long without a PDU the subagent pings the master;
	// with no answer within another Ping it reconnects. Default 15s.
	Ping time.Duration
	// Start is the zero of the sysUpTime the subagent reports (its
	// Response PDUs, TimeStamp objects). Default: New's time.
	Start time.Time
	// Backoff between connection attempts, doubling from Backoff to
	// MaxBackoff. Defaults 500ms and 30s.
	Backoff, MaxBackoff time.Duration
}

const (
	// maxVarBinds bounds a response: with the short OIDs a view holds
	// it stays far below MaxPayload.
	maxVarBinds = 256
	// notifyQueue bounds the notifications waiting for the master; more
	// are dropped and counted.
	notifyQueue = 64
)

// Agent is a subagent: it keeps a session with the master, reconnecting
// with backoff, and answers its requests from Config.View.
type Agent struct {
	cfg     Config
	start   time.Time
	notify  chan []VarBind
	dropped atomic.Uint64
	up      atomic.Bool
	served  atomic.Uint64
}

// snmpTrapOID.0 and sysUpTime.0 (RFC 3416 §4.2.6), the first varbinds of
// a notification.
var (
	snmpTrapOID = OID{1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0}
	sysUpTime   = OID{1, 3, 6, 1, 2, 1, 1, 3, 0}
)

// New returns an Agent; Run starts it.
func New(cfg Config) *Agent {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Ping <= 0 {
		cfg.Ping = 15 * time.Second
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 500 * time.Millisecond
	}
	if cfg.MaxBackoff < cfg.Backoff {
		cfg.MaxBackoff = max(30*time.Second, cfg.Backoff)
	}
	if cfg.Start.IsZero() {
		cfg.Start = time.Now()
	}
	return &Agent{cfg: cfg, start: cfg.Start, notify: make(chan []VarBind, notifyQueue)}
}

// Connected says whether a session is open now.
func (a *Agent) Connected() bool { return a.up.Load() }

// Dropped counts notifications dropped: no session, or the queue full.
func (a *Agent) Dropped() uint64 { return a.dropped.Load() }

// Requests counts the retrieval requests answered.
func (a *Agent) Requests() uint64 { return a.served.Load() }

// Uptime is the sysUpTime the subagent reports: hundredths of a second
// since New.
func (a *Agent) Uptime() uint32 { return uint32(time.Since(a.start) / (10 * time.Millisecond)) }

// Ticks converts a time to the subagent's sysUpTime scale (0 before New).
func (a *Agent) Ticks(t time.Time) uint32 {
	if t.Before(a.start) {
		return 0
	}
	return uint32(t.Sub(a.start) / (10 * time.Millisecond))
}

// Notify queues a notification: trap is its snmpTrapOID value, vbs its
// objects. It never blocks: without a session or with the queue full the
// notification is dropped and counted.
func (a *Agent) Notify(trap OID, vbs []VarBind) {
	if !a.up.Load() {
		a.dropped.Add(1)
		return
	}
	all := make([]VarBind, 0, 2+len(vbs))
	all = append(all, VarBind{Type: TimeTicks, Name: sysUpTime, Int: uint64(a.Uptime())},
		VarBind{Type: ObjectID, Name: snmpTrapOID, OID: trap})
	select {
	case a.notify <- append(all, vbs...):
	default:
		a.dropped.Add(1)
	}
}

// Run keeps a session open until ctx ends.
func (a *Agent) Run(ctx context.Context) {
	wait := a.cfg.Backoff
	quiet := false // the outage was logged
	for ctx.Err() == nil {
		registered, err := a.session(ctx)
		if ctx.Err() != nil {
			return
		}
		if registered {
			// The master restarted rather than refused us: try again
			// soon. One that registers and drops us at once costs a
			// session per Backoff.
			quiet, wait = false, a.cfg.Backoff
		}
		if !quiet {
			a.cfg.Log.Warn("agentx: no session with the master agent; retrying with backoff", "address", a.cfg.Address, "err", err)
			quiet = true
		}
		a.cfg.Log.Debug("agentx: retrying", "address", a.cfg.Address, "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, a.cfg.MaxBackoff)
	}
}

func (a *Agent) dial(ctx context.Context) (net.Conn, error) {
	d := net.Dialer{Timeout: a.cfg.Timeout}
	if hp, ok := strings.CutPrefix(a.cfg.Address, "tcp:"); ok {
		return d.DialContext(ctx, "tcp", hp)
	}
	return d.DialContext(ctx, "unix", strings.TrimPrefix(a.cfg.Address, "unix:"))
}

// conn is one session's connection: reads on the session goroutine, writes
// from it and from the notification sender, serialised.
type conn struct {
	c       net.Conn
	timeout time.Duration
	wmu     sync.Mutex
	buf     []byte
	packet  atomic.Uint32
	session uint32
}

func (c *conn) write(p *PDU) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	b := Encode(nil, p)
	_ = c.c.SetWriteDeadline(time.Now().Add(c.timeout))
	_, err := c.c.Write(b)
	return err
}

// read reads one PDU, waiting up to idle for its header.
func (c *conn) read(idle time.Duration) (PDU, error) {
	_ = c.c.SetReadDeadline(time.Now().Add(idle))
	h := c.buf[:HeaderLen]
	if got, err := io.ReadFull(c.c, h); err != nil {
		if got > 0 {
			// Half a header: the stream cannot be resynchronised.
			return PDU{}, fmt.Errorf("agentx: header cut after %d bytes: %w", got, io.ErrUnexpectedEOF)
		}
		return PDU{}, err
	}
	n, err := PayloadLen(h)
	if err != nil {
		return PDU{}, err
	}
	_ = c.c.SetReadDeadline(time.Now().Add(c.timeout))
	if _, err := io.ReadFull(c.c, c.buf[HeaderLen:HeaderLen+n]); err != nil {
		return PDU{}, err
	}
	return Decode(c.buf[:HeaderLen+n])
}

// call sends p and waits for its Response (during the handshake only).
func (c *conn) call(p *PDU) (PDU, error) {
	p.SessionID = c.session
	p.PacketID = c.packet.Add(1)
	if err := c.write(p); err != nil {
		return PDU{}, err
	}
	// The master has nothing else to say before answering; a few PDUs
	// more are tolerated, not a stream of them.
	for range 16 {
		r, err := c.read(c.timeout)
		if err != nil {
			return PDU{}, err
		}
		if r.Type == TypeResponse && r.PacketID == p.PacketID {
			if r.Error != NoError {
				return r, fmt.Errorf("agentx: master answered error %d", r.Error)
			}
			return r, nil
		}
	}
	return PDU{}, errors.New("agentx: no answer from the master among its PDUs")
}

var errClosed = errors.New("agentx: the master closed the session")

// session runs one session; registered says it got as far as serving.
func (a *Agent) session(ctx context.Context) (registered bool, err error) {
	nc, err := a.dial(ctx)
	if err != nil {
		return false, err
	}
	c := &conn{c: nc, timeout: a.cfg.Timeout, buf: make([]byte, HeaderLen+MaxPayload)}
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	defer nc.Close()
	r, err := c.call(&PDU{Type: TypeOpen, Timeout: uint8(min(a.cfg.Timeout/time.Second, 255)), ID: a.cfg.ID, Descr: []byte(a.cfg.Descr)})
	if err != nil {
		return false, fmt.Errorf("open: %w", err)
	}
	c.session = r.SessionID
	for _, st := range a.cfg.Subtrees {
		if _, err := c.call(&PDU{Type: TypeRegister, Priority: 127, Subtree: st}); err != nil {
			return false, fmt.Errorf("register %s: %w", st, err)
		}
	}
	a.cfg.Log.Info("agentx: registered with the master agent", "address", a.cfg.Address, "session", c.session)
	// Notifications queued by an earlier session are stale.
	for len(a.notify) > 0 {
		<-a.notify
		a.dropped.Add(1)
	}
	a.up.Store(true)
	defer a.up.Store(false)
	done := make(chan struct{})
	defer close(done)
	go a.sendNotifications(c, done)
	err = a.serve(c)
	if ctx.Err() != nil {
		// Closing politely lets the master drop our registrations now.
		_ = c.write(&PDU{Type: TypeClose, SessionID: c.session, Reason: CloseShutdown})
	}
	return true, err
}

func (a *Agent) sendNotifications(c *conn, done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		case vbs := <-a.notify:
			// The answer is read (and ignored) by serve.
			if err := c.write(&PDU{Type: TypeNotify, SessionID: c.session, PacketID: c.packet.Add(1), VarBinds: vbs}); err != nil {
				a.dropped.Add(1)
				c.c.Close()
				return
			}
		}
	}
}

// serve answers the master's PDUs until the connection fails or closes.
func (a *Agent) serve(c *conn) error {
	pinged := false
	for {
		p, err := c.read(a.cfg.Ping)
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout() && pinged:
			return errors.New("agentx: the master does not answer pings")
		case errors.As(err, &ne) && ne.Timeout():
			// Quiet for a Ping: check the master is still there.
			pinged = true
			if err := c.write(&PDU{Type: TypePing, SessionID: c.session, PacketID: c.packet.Add(1)}); err != nil {
				return err
			}
			continue
		case err != nil && (errors.Is(err, ErrMalformed) || errors.Is(err, ErrShort) || errors.Is(err, ErrTooLarge) || errors.Is(err, ErrVersion) || errors.Is(err, ErrType)):
			// RFC 2741 §7.1.2: a PDU that cannot be parsed ends the
			// session with a Close of reason parseError.
			_ = c.write(&PDU{Type: TypeClose, SessionID: c.session, Reason: CloseParseError})
			return err
		case err != nil:
			return err
		}
		pinged = false
		if resp := a.handle(&p); resp != nil {
			if err := c.write(resp); err != nil {
				return err
			}
		}
		if p.Type == TypeClose {
			return errClosed
		}
	}
}

// handle answers one PDU from the master; nil: no answer.
func (a *Agent) handle(p *PDU) *PDU {
	resp := &PDU{Type: TypeResponse, SessionID: p.SessionID, TransactionID: p.TransactionID, PacketID: p.PacketID, SysUpTime: a.Uptime()}
	switch p.Type {
	case TypeGet, TypeGetNext, TypeGetBulk:
		a.served.Add(1)
		if len(p.Context) > 0 {
			resp.Error = UnsupportedContext
			return resp
		}
		if len(p.Ranges) > maxVarBinds {
			resp.Error, resp.Index = GenErr, 1
			return resp
		}
		resp.VarBinds = a.cfg.View().Answer(p, maxVarBinds)
		// The names echoed for missing objects are the master's, up to
		// 128 sub-identifiers each: an answer over the PDU limit is an
		// error, not a PDU the master would refuse.
		if len(Encode(nil, resp)) > HeaderLen+MaxPayload {
			resp.VarBinds, resp.Error, resp.Index = nil, GenErr, 1
		}
		return resp
	case TypeTestSet:
		// Read-only: every object is not writable.
		resp.Error, resp.Index = NotWritable, 1
		return resp
	case TypeCommitSet, TypeUndoSet:
		resp.Error = GenErr
		return resp
	}
	// Responses to our Notify and Ping, CleanupSet, Close: no answer.
	return nil
}
