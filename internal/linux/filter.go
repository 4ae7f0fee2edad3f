package linux

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"govrrp/vrrp"
)

// FilterSpec says which datagrams the kernel passes to the main socket.
type FilterSpec struct {
	VRIDs  [256]bool // VRIDs configured on this socket
	AnyTTL [256]bool // VRIDs not held to TTL/hop limit 255 (unicast instances, spec §2.1)
}

// ErrSendOnly reports a receive operation on a SendOnly Conn.
var ErrSendOnly = errors.New("linux: send-only socket")

// skfNetOff is the kernel's SKF_NET_OFF: absolute loads from this negative
// offset on address the network header. An IPv6 raw socket's filter sees
// the packet from the VRRP header on, so the hop limit (byte 7 of the
// IPv6 header) is only reachable this way.
const skfNetOff = 0xfff00000 // -0x100000 as cBPF's 32-bit k

// dropAll is the reject socket's filter until SetFilter.
var dropAll = mustAssemble([]bpf.Instruction{bpf.RetConstant{Val: 0}})

// SetFilter attaches (or atomically replaces) the kernel filters of a
// receiving Conn: the main socket passes only advertisements (VRRPv2 or v3
// over IPv4, v3 over IPv6; type 1) for a VRID in f.VRIDs, with TTL/hop
// limit 255 unless f.AnyTTL says otherwise for that VRID. The reject socket
// passes exactly the rest, so that what fails still reaches the validator
// to be counted and logged [5798-7.1-a] (Packet.Rejected), from a small
// buffer a flood can only overflow. Datagrams already queued keep their
// socket.
//
// Before the first SetFilter the main socket passes everything and the
// reject socket nothing (the daemon registers VRIDs after Listen).
func (c *Conn) SetFilter(f *FilterSpec) error {
	if c.rej == nil {
		return ErrSendOnly
	}
	pass, err := bpf.Assemble(filterProgram(c.fam, f, false))
	if err != nil {
		return err
	}
	inverse, err := bpf.Assemble(filterProgram(c.fam, f, true))
	if err != nil {
		return err
	}
	var serr error
	if err := c.rc.Control(func(fd uintptr) { serr = attachFilter(int(fd), pass) }); err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("linux: attach filter: %w", serr)
	}
	if err := attachFilter(c.rej.fd, inverse); err != nil {
		return fmt.Errorf("linux: attach reject filter: %w", err)
	}
	return nil
}

func attachFilter(fd int, prog []bpf.RawInstruction) error {
	// bpf.RawInstruction is struct sock_filter, field for field.
	fp := unix.SockFprog{Len: uint16(len(prog)), Filter: (*unix.SockFilter)(unsafe.Pointer(&prog[0]))}
	return unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fp)
}

func mustAssemble(p []bpf.Instruction) []bpf.RawInstruction {
	raw, err := bpf.Assemble(p)
	if err != nil {
		panic(err)
	}
	return raw
}

// filterProgram builds the main socket's filter, or with inverse the reject
// socket's, which returns the opposite verdict on every path.
//
// Shape: check the length (no load may run past the packet, which would
// drop it silently on both sockets), the version/type byte; keep the VRID
// in M[0] and the TTL in M[1]; then test bit VRID of a 256-bit set held as
// eight 32-bit constants (a jeq per VRID would overflow cBPF's 8-bit
// conditional jumps).
func filterProgram(fam vrrp.Family, f *FilterSpec, inverse bool) []bpf.Instruction {
	a := &assembler{labels: map[string]int{}}
	if fam == vrrp.IPv4 {
		// The IPv4 raw socket's filter sees the IP header.
		a.add(bpf.LoadExtension{Num: bpf.ExtLen})
		a.jif(bpf.JumpLessThan, 20, "reject", "")
		a.add(bpf.LoadMemShift{Off: 0}) // X = IHL·4
		a.add(bpf.TXA{})
		a.add(bpf.ALUOpConstant{Op: bpf.ALUOpAdd, Val: 8})
		a.add(bpf.TAX{})
		a.add(bpf.LoadExtension{Num: bpf.ExtLen})
		a.jifx(bpf.JumpLessThan, "reject", "") // shorter than IP + VRRP headers
		a.add(bpf.LoadMemShift{Off: 0})
		a.add(bpf.LoadIndirect{Off: 0, Size: 1})
		a.jif(bpf.JumpEqual, 0x21, "advert", "") // v2, advertisement
		a.jif(bpf.JumpEqual, 0x31, "advert", "reject")
		a.label("advert")
		a.add(bpf.LoadIndirect{Off: 1, Size: 1})
		a.add(bpf.StoreScratch{Src: bpf.RegA, N: 0})
		a.add(bpf.LoadAbsolute{Off: 8, Size: 1})
		a.add(bpf.StoreScratch{Src: bpf.RegA, N: 1})
	} else {
		// The IPv6 raw socket's filter sees the VRRP header at 0.
		a.add(bpf.LoadExtension{Num: bpf.ExtLen})
		a.jif(bpf.JumpLessThan, 8, "reject", "")
		a.add(bpf.LoadAbsolute{Off: 0, Size: 1})
		a.jif(bpf.JumpEqual, 0x31, "", "reject") // VRRPv2 is IPv4 only
		a.add(bpf.LoadAbsolute{Off: 1, Size: 1})
		a.add(bpf.StoreScratch{Src: bpf.RegA, N: 0})
		a.add(bpf.LoadAbsolute{Off: skfNetOff + 7, Size: 1})
		a.add(bpf.StoreScratch{Src: bpf.RegA, N: 1})
	}
	// X = VRID mod 32, A = VRID / 32: dispatch to the block of that word.
	a.add(bpf.LoadScratch{Dst: bpf.RegA, N: 0})
	a.add(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 31})
	a.add(bpf.TAX{})
	a.add(bpf.LoadScratch{Dst: bpf.RegA, N: 0})
	a.add(bpf.ALUOpConstant{Op: bpf.ALUOpShiftRight, Val: 5})
	for w := range 7 {
		a.jif(bpf.JumpEqual, uint32(w), fmt.Sprint("w", w), "")
	}
	a.jump("w7")
	for w := range 8 {
		a.label(fmt.Sprint("w", w))
		vrids, anyTTL := word(&f.VRIDs, w), word(&f.AnyTTL, w)&word(&f.VRIDs, w)
		if vrids == 0 {
			a.jump("reject")
			continue
		}
		a.add(bpf.LoadConstant{Dst: bpf.RegA, Val: vrids})
		a.add(bpf.ALUOpX{Op: bpf.ALUOpShiftRight})
		a.add(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 1})
		a.jif(bpf.JumpEqual, 0, "reject", "")
		if anyTTL != 0 {
			a.add(bpf.LoadConstant{Dst: bpf.RegA, Val: anyTTL})
			a.add(bpf.ALUOpX{Op: bpf.ALUOpShiftRight})
			a.add(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 1})
			a.jif(bpf.JumpEqual, 1, "accept", "")
		}
		a.jump("ttl")
	}
	a.label("ttl")
	a.add(bpf.LoadScratch{Dst: bpf.RegA, N: 1})
	a.jif(bpf.JumpEqual, vrrp.TTL, "accept", "reject")
	pass, drop := uint32(0xffffffff), uint32(0)
	if inverse {
		pass, drop = drop, pass
	}
	a.label("accept")
	a.add(bpf.RetConstant{Val: pass})
	a.label("reject")
	a.add(bpf.RetConstant{Val: drop})
	return a.resolve()
}

// word returns bits 32w..32w+31 of set, bit i of the word for VRID 32w+i.
func word(set *[256]bool, w int) uint32 {
	var v uint32
	for i := range 32 {
		if set[32*w+i] {
			v |= 1 << i
		}
	}
	return v
}

// assembler resolves forward jumps to labels ("" = the next instruction).
type assembler struct {
	ins    []bpf.Instruction
	fixes  []fix
	labels map[string]int
}

type fix struct {
	at       int
	onT, onF string
}

func (a *assembler) add(i bpf.Instruction) { a.ins = append(a.ins, i) }
func (a *assembler) label(l string)        { a.labels[l] = len(a.ins) }

func (a *assembler) jif(cond bpf.JumpTest, val uint32, t, f string) {
	a.fixes = append(a.fixes, fix{len(a.ins), t, f})
	a.add(bpf.JumpIf{Cond: cond, Val: val})
}

func (a *assembler) jifx(cond bpf.JumpTest, t, f string) {
	a.fixes = append(a.fixes, fix{len(a.ins), t, f})
	a.add(bpf.JumpIfX{Cond: cond})
}

func (a *assembler) jump(l string) {
	a.fixes = append(a.fixes, fix{len(a.ins), l, ""})
	a.add(bpf.Jump{})
}

func (a *assembler) skip(from int, l string) uint32 {
	if l == "" {
		return 0
	}
	to, ok := a.labels[l]
	if !ok || to <= from {
		panic("linux: bpf label " + l + " missing or backwards")
	}
	return uint32(to - from - 1)
}

func (a *assembler) resolve() []bpf.Instruction {
	for _, x := range a.fixes {
		t, f := a.skip(x.at, x.onT), a.skip(x.at, x.onF)
		switch i := a.ins[x.at].(type) {
		case bpf.JumpIf:
			if t > 255 || f > 255 {
				panic("linux: bpf conditional jump too far")
			}
			i.SkipTrue, i.SkipFalse = uint8(t), uint8(f)
			a.ins[x.at] = i
		case bpf.JumpIfX:
			if t > 255 || f > 255 {
				panic("linux: bpf conditional jump too far")
			}
			i.SkipTrue, i.SkipFalse = uint8(t), uint8(f)
			a.ins[x.at] = i
		case bpf.Jump:
			i.Skip = t
			a.ins[x.at] = i
		}
	}
	return a.ins
}
