package interop

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"govrrp/internal/lab"
	"govrrp/internal/testenv"
)

const frrBfdd = "/usr/lib/frr/bfdd"

// FRRBFD runs FRR 8.4's zebra and bfdd in a namespace as a BFD peer
// (../shared/notes/peers.md): zebra first, since bfdd learns interfaces
// from it, then bfdd with its own control socket:
//
//	bfdd -u frr -g frr -z DIR/zserv.api --vty_socket DIR -A 127.0.0.1 -P 0 --bfdctl DIR/bfdd.sock -f DIR/bfdd.conf
type FRRBFD struct {
	node        *lab.Node
	dir         string
	conf        string
	zebra, bfdd *lab.Proc
}

// NewFRRBFD prepares bfdd in nd with conf as its bfdd.conf.
func NewFRRBFD(t testing.TB, nd *lab.Node, dir, conf string) *FRRBFD {
	t.Helper()
	testenv.RequireTool(t, frrZebra)
	testenv.RequireTool(t, frrBfdd)
	testenv.RequireTool(t, "vtysh")
	b := &FRRBFD{node: nd, dir: filepath.Join(dir, "frr-bfdd"), conf: conf}
	if err := os.MkdirAll(b.dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(b.dir, 0o777); err != nil {
		t.Fatal(err)
	}
	return b
}

func (b *FRRBFD) path(n string) string { return filepath.Join(b.dir, n) }

// Start starts zebra and bfdd and waits for bfdd's vty.
func (b *FRRBFD) Start(t testing.TB) {
	t.Helper()
	if err := os.WriteFile(b.path("bfdd.conf"), []byte(b.conf), 0o644); err != nil {
		t.Fatal(err)
	}
	common := b.common()
	b.zebra = lab.StartProc(t, b.node, "frr/zebra", b.path("zebra.out"), append([]string{frrZebra,
		"-i", b.path("zebra.pid"), "-f", "/dev/null", "--log", "file:" + b.path("zebra.log")}, common...)...)
	b.wait(t, b.zebra, "zserv.api")
	b.startBfdd(t)
}

func (b *FRRBFD) common() []string {
	return []string{"-u", "frr", "-g", "frr", "-z", b.path("zserv.api"), "--vty_socket", b.dir, "-A", "127.0.0.1", "-P", "0"}
}

func (b *FRRBFD) startBfdd(t testing.TB) {
	t.Helper()
	_ = os.Remove(b.path("bfdd.vty"))
	b.bfdd = lab.StartProc(t, b.node, "frr/bfdd", b.path("bfdd.out"), append([]string{frrBfdd,
		"-i", b.path("bfdd.pid"), "--bfdctl", b.path("bfdd.sock"), "-f", b.path("bfdd.conf"),
		"--log", "file:" + b.path("bfdd.log")}, b.common()...)...)
	b.wait(t, b.bfdd, "bfdd.vty")
}

// RestartBfdd starts bfdd again after Kill (zebra kept running).
func (b *FRRBFD) RestartBfdd(t testing.TB) {
	t.Helper()
	if b.bfdd != nil && b.bfdd.Running() {
		b.bfdd.Kill(t)
	}
	b.startBfdd(t)
}

// BfddPID is bfdd's process id, for CPU figures.
func (b *FRRBFD) BfddPID() int { return b.bfdd.PID() }

func (b *FRRBFD) wait(t testing.TB, p *lab.Proc, name string) {
	t.Helper()
	if !lab.Poll(10*time.Second, 10*time.Millisecond, func() bool {
		_, err := os.Stat(b.path(name))
		return err == nil || !p.Running()
	}) || !p.Running() {
		t.Fatalf("%s did not start (no %s):\n%s", p.Name, name, lab.Tail(lab.ReadFile(b.path("bfdd.out"))+lab.ReadFile(b.path("bfdd.log")), 40))
	}
}

// Kill kills bfdd with SIGKILL: it sends nothing more.
func (b *FRRBFD) Kill(t testing.TB) { t.Helper(); b.bfdd.Kill(t) }

// Vtysh runs vtysh commands against the peer's daemons.
func (b *FRRBFD) Vtysh(cmds ...string) (string, error) {
	return (&FRR{peerBase: peerBase{dir: b.dir}}).vtysh(cmds...)
}

// FRRBFDPeer is one entry of `show bfd peers json` (FRR 8.4; intervals in
// ms).
type FRRBFDPeer struct {
	Peer             string `json:"peer"`
	Status           string `json:"status"`
	Diagnostic       string `json:"diagnostic"`
	RemoteDiagnostic string `json:"remote-diagnostic"`
	ID               uint32 `json:"id"`
	RemoteID         uint32 `json:"remote-id"`
	ReceiveInterval  int    `json:"receive-interval"`
	TransmitInterval int    `json:"transmit-interval"`
	DetectMultiplier int    `json:"detect-multiplier"`
	RemoteReceive    int    `json:"remote-receive-interval"`
	RemoteTransmit   int    `json:"remote-transmit-interval"`
	RemoteMultiplier int    `json:"remote-detect-multiplier"`
}

// Peers returns bfdd's sessions.
func (b *FRRBFD) Peers() ([]FRRBFDPeer, error) {
	out, err := b.Vtysh("show bfd peers json")
	if err != nil {
		return nil, err
	}
	var ps []FRRBFDPeer
	if err := json.Unmarshal([]byte(out), &ps); err != nil {
		return nil, fmt.Errorf("show bfd peers json: %v: %q", err, out)
	}
	return ps, nil
}

// PeerState returns bfdd's session to peer, or an error.
func (b *FRRBFD) PeerState(peer string) (FRRBFDPeer, error) {
	ps, err := b.Peers()
	if err != nil {
		return FRRBFDPeer{}, err
	}
	for _, p := range ps {
		if strings.EqualFold(p.Peer, peer) {
			return p, nil
		}
	}
	return FRRBFDPeer{}, fmt.Errorf("no peer %s in %+v", peer, ps)
}

// Logs returns the tail of bfdd's logs, for failure reports.
func (b *FRRBFD) Logs() string {
	return lab.Tail(lab.ReadFile(b.path("bfdd.out"))+lab.ReadFile(b.path("bfdd.log")), 40)
}

// Downs is the sum of bfdd's session-down counters over its sessions
// (`show bfd peers counters json`).
func (b *FRRBFD) Downs() (uint64, error) {
	out, err := b.Vtysh("show bfd peers counters json")
	if err != nil {
		return 0, err
	}
	var ps []struct {
		Down *uint64 `json:"session-down"`
	}
	if err := json.Unmarshal([]byte(out), &ps); err != nil {
		return 0, fmt.Errorf("show bfd peers counters json: %v: %q", err, out)
	}
	var n uint64
	for _, p := range ps {
		if p.Down == nil {
			return 0, fmt.Errorf("show bfd peers counters json: no session-down in %q", out)
		}
		n += *p.Down
	}
	return n, nil
}
