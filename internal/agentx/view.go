package agentx

import (
	"slices"
)

// View is an immutable set of objects, sorted by name, that answers the
// retrieval PDUs.
type View struct {
	vbs     []VarBind
	objects []OID // the scalars' and columns' OIDs, for noSuchInstance
}

// NewView sorts vbs (it takes ownership) into a View. objects are the
// OIDs of the objects (scalars, table columns) served, whether or not they
// have instances now: a Get of a missing instance of one is noSuchInstance,
// of anything else noSuchObject.
func NewView(vbs []VarBind, objects []OID) *View {
	slices.SortFunc(vbs, func(a, b VarBind) int { return a.Name.Compare(b.Name) })
	return &View{vbs: vbs, objects: objects}
}

// Len is the number of objects.
func (v *View) Len() int { return len(v.vbs) }

// VarBinds returns the objects in order; the caller must not change them.
func (v *View) VarBinds() []VarBind { return v.vbs }

// Get answers one Get range (RFC 2741 §7.2.3.1): the instance named Start,
// noSuchInstance when its object exists, else noSuchObject.
func (v *View) Get(name OID) VarBind {
	i, found := slices.BinarySearchFunc(v.vbs, name, func(vb VarBind, n OID) int { return vb.Name.Compare(n) })
	if found {
		return v.vbs[i]
	}
	for _, o := range v.objects {
		if len(name) > len(o) && name.HasPrefix(o) {
			return VarBind{Type: NoSuchInstance, Name: name}
		}
	}
	return VarBind{Type: NoSuchObject, Name: name}
}

// Next answers one GetNext range (RFC 2741 §7.2.3.2): the first object
// after Start (or at it, when Include) and before End, else endOfMibView
// named Start.
func (v *View) Next(r SearchRange) VarBind {
	i, found := slices.BinarySearchFunc(v.vbs, r.Start, func(vb VarBind, n OID) int { return vb.Name.Compare(n) })
	if found && !r.Include {
		i++
	}
	if i < len(v.vbs) && (len(r.End) == 0 || v.vbs[i].Name.Compare(r.End) < 0) {
		return v.vbs[i]
	}
	return VarBind{Type: EndOfMibView, Name: r.Start}
}

// Answer computes the VarBinds of the response to a Get, GetNext or
// GetBulk PDU, at most maxVarBinds of them (GetBulk stops early; a Get or
// GetNext with more ranges is answered in full, bounded by the PDU size
// limit already).
func (v *View) Answer(p *PDU, maxVarBinds int) []VarBind {
	switch p.Type {
	case TypeGet:
		out := make([]VarBind, len(p.Ranges))
		for i, r := range p.Ranges {
			out[i] = v.Get(r.Start)
		}
		return out
	case TypeGetNext:
		out := make([]VarBind, len(p.Ranges))
		for i, r := range p.Ranges {
			out[i] = v.Next(r)
		}
		return out
	case TypeGetBulk:
		return v.bulk(p, maxVarBinds)
	}
	return nil
}

// bulk is GetBulk (RFC 2741 §7.2.3.3): the first NonRepeaters ranges once,
// then up to MaxRepetitions rounds over the rest, each round continuing
// from the previous one's answers, ending when every repeater is at the end
// of the view or maxVarBinds are answered.
func (v *View) bulk(p *PDU, maxVarBinds int) []VarBind {
	nr := min(int(p.NonRepeaters), len(p.Ranges))
	out := make([]VarBind, 0, min(maxVarBinds, len(p.Ranges)+int(p.MaxRepetitions)))
	for _, r := range p.Ranges[:nr] {
		if len(out) >= maxVarBinds {
			return out
		}
		out = append(out, v.Next(r))
	}
	reps := slices.Clone(p.Ranges[nr:])
	if len(reps) == 0 {
		return out
	}
	for range p.MaxRepetitions {
		ended := 0
		for j := range reps {
			if len(out) >= maxVarBinds {
				return out
			}
			vb := v.Next(reps[j])
			out = append(out, vb)
			if vb.Type == EndOfMibView {
				ended++
				continue
			}
			reps[j].Start, reps[j].Include = vb.Name, false
		}
		if ended == len(reps) {
			break
		}
	}
	return out
}
