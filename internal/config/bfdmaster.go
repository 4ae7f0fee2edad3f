package config

import (
	"time"

	"govrrp/fsm"

	"go.yaml.in/yaml/v3"
)

// BFDMaster is a router's Master–Backup BFD (routers[].bfd_master).
type BFDMaster struct {
	MinTx, MinRx time.Duration
	Multiplier   uint8
	Successor    Successor
	Pos          Pos
}

// Successor is routers[].bfd_master.successor.
type Successor uint8

const (
	SuccessorAuto Successor = iota
	SuccessorTrue
	SuccessorFalse
)

func (p *parser) bfdMaster(n *yaml.Node) *BFDMaster {
	m := &BFDMaster{MinTx: DefaultBFDInterval, MinRx: DefaultBFDInterval, Multiplier: DefaultBFDMultiplier, Pos: p.Pos(n)}
	p.mapping(n, "routers[].bfd_master", func(k, v *yaml.Node) {
		switch k.Value {
		case "min_tx":
			m.MinTx = p.bfdInterval(v)
		case "min_rx":
			m.MinRx = p.bfdInterval(v)
		case "multiplier":
			m.Multiplier = uint8(p.Int(v, 1, 255, "write 1..255 (3 is usual)"))
		case "successor":
			switch p.OneOf(v, "auto", "true", "false") {
			case "true":
				m.Successor = SuccessorTrue
			case "false":
				m.Successor = SuccessorFalse
			}
		}
	})
	return m
}

// FSM is the state machine's successor role: none without bfd_master.
func (m *BFDMaster) FSM() fsm.Successor {
	switch {
	case m == nil || m.Successor == SuccessorFalse:
		return fsm.SuccessorNone
	case m.Successor == SuccessorTrue:
		return fsm.SuccessorNow
	}
	return fsm.SuccessorSkew
}

// Active reports whether the router opens a session to its Master as
// Backup (bfd_master set and successor not false).
func (m *BFDMaster) Active() bool { return m.FSM() != fsm.SuccessorNone }
