package keepalived

import (
	"strconv"
	"strings"
)

// keepalived.conf(5)'s "Sequence blocks" (~SEQ, ~SEQx) and "List blocks"
// (~LST), read as keepalived 2.2.7 does (lib/parser.c, add_seq and add_lst):
// the rest of the line is read once per value, with the variable defined
// as a parameter; blocks on one line nest from left to right.

// seqBlock is one parsed ~SEQ or ~LST: the variables and their values in
// order, and the text read for each.
type seqBlock struct {
	vars []string
	// next returns the values of the next round, or nil when done.
	next func() []string
	text string
}

// isSeq reports whether a line (comments and leading blanks gone) is a
// ~SEQ or ~LST line.
func isSeq(s string) bool { return strings.HasPrefix(s, "~SEQ") || strings.HasPrefix(s, "~LST") }

// sequence reads a ~SEQ or ~LST line: each round defines the variables and
// reads the text as a line of its own.
func (r *reader) sequence(s string, pos Pos, path string, depth, expand int) error {
	var b *seqBlock
	var ok bool
	if strings.HasPrefix(s, "~SEQ") {
		b, ok = r.parseSeq(s[4:], pos)
	} else {
		b, ok = parseList(s[4:])
	}
	if !ok {
		r.notes = append(r.notes, Note{Pos: pos, Keyword: s[:4], Why: "invalid specification: the line is skipped, as keepalived does",
			Fix: "write ~SEQ(VAR, [START,] [STEP,] END) TEXT or ~LST(VAR, V1, V2...) TEXT, ~LST({A, B}, {A1, B1}, ...) TEXT (keepalived.conf(5), Sequence blocks and List blocks)", Lost: true})
		return nil
	}
	for vals := b.next(); vals != nil; vals = b.next() {
		if err := r.spend(pos, cost{rounds: 1}); err != nil {
			return err
		}
		for i, v := range b.vars {
			r.params[v] = vals[i]
		}
		if err := r.seqText(b.text, pos, path, depth, expand+1); err != nil {
			return err
		}
	}
	return nil
}

// seqText reads one round's text: keepalived looks for include after the
// substitution there, so "~SEQ(I, 2) include conf.d/$I.conf" includes.
func (r *reader) seqText(text string, pos Pos, path string, depth, expand int) error {
	out, _, err := r.substitute(text, pos)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(strings.TrimLeft(out, " \t"), "include") {
		return r.line(text, pos, path, depth, expand)
	}
	if f := words(nil, stripComment(out)); len(f) >= 2 && isInclude(f[0].Text) && !f[0].Quoted {
		return r.include(f[1].Text, pos, path, depth)
	}
	return r.line(text, pos, path, depth, expand)
}

// maxSeqArgs is keepalived's bound on the text of ~SEQ's numbers (three
// longs and their separators).
const maxSeqArgs = 3*20 + 3

// parseSeq reads "[x](VAR, [START,] [STEP,] END) TEXT" (after "~SEQ"). The
// numbers may be parameters; they are read as C's strtol with base 0
// (0x hex, 0 octal). One number is END, from 1 (or -1 below 0) by 1 or -1;
// two are START and END, by 1 or -1; three are START, STEP, END.
func (r *reader) parseSeq(s string, pos Pos) (*seqBlock, bool) {
	hex := strings.HasPrefix(s, "x")
	if hex {
		s = s[1:]
	}
	s = strings.TrimLeft(s, " \t")
	if !strings.HasPrefix(s, "(") {
		return nil, false
	}
	s = strings.TrimLeft(s[1:], " \t")
	end := strings.IndexAny(s, " \t,)")
	if end <= 0 {
		return nil, false
	}
	name := s[:end]
	s = strings.TrimLeft(s[end:], " \t")
	if !strings.HasPrefix(s, ",") {
		return nil, false
	}
	closeAt := strings.IndexByte(s, ')')
	if closeAt < 0 || closeAt > maxSeqArgs {
		return nil, false
	}
	args, text := s[1:closeAt], strings.TrimLeft(s[closeAt+1:], " \t")
	if strings.Contains(args, "$") {
		out, _, err := r.substitute(args, pos)
		if err != nil || strings.Contains(out, "\n") {
			return nil, false
		}
		args = out
	}
	var n []int64
	for _, a := range strings.Split(args, ",") {
		v, ok := strtol(strings.TrimSpace(a))
		if !ok {
			return nil, false
		}
		n = append(n, v)
	}
	var start, step, last int64
	switch len(n) {
	case 1:
		last, step, start = n[0], 1, 1
		if last < 1 {
			step = -1
		}
		if last < 0 {
			start = -1
		}
	case 2:
		start, last, step = n[0], n[1], 1
		if start > last {
			step = -1
		}
	case 3:
		start, step, last = n[0], n[1], n[2]
		if step == 0 || start < last && step < 0 || start > last && step > 0 {
			return nil, false
		}
	default:
		return nil, false
	}
	if hex && (start < 0 || last < 0) {
		return nil, false
	}
	v, done := start, false
	next := func() []string {
		if done {
			return nil
		}
		cur := v
		nv := v + step
		// Stop past the end, or where the next value would overflow.
		done = (step > 0 && (nv > last || nv < v)) || (step < 0 && (nv < last || nv > v))
		v = nv
		if hex {
			return []string{strconv.FormatUint(uint64(cur), 16)}
		}
		return []string{strconv.FormatInt(cur, 10)}
	}
	return &seqBlock{vars: []string{name}, next: next, text: text}, true
}

// strtol reads a whole field as C's strtol with base 0 does: an optional
// sign, then 0x/0X hex, 0 octal or decimal; an empty field is 0, as
// keepalived reads a missing number.
func strtol(f string) (int64, bool) {
	if f == "" {
		return 0, true
	}
	neg := false
	switch f[0] {
	case '-':
		neg, f = true, f[1:]
	case '+':
		f = f[1:]
	}
	base := 10
	switch {
	case len(f) > 2 && (f[:2] == "0x" || f[:2] == "0X"):
		base, f = 16, f[2:]
	case len(f) > 1 && f[0] == '0':
		base, f = 8, f[1:]
	}
	if f == "" || strings.ContainsAny(f[:1], "+-") {
		return 0, false
	}
	v, err := strconv.ParseUint(f, base, 63)
	if err != nil {
		return 0, false
	}
	if neg {
		return -int64(v), true
	}
	return int64(v), true
}

// parseList reads "(VAR, V1, V2...) TEXT" or "({A, B}, {A1, B1}, V...) TEXT"
// (after "~LST"): each value set defines the variables in order, a set
// with fewer values leaves the others empty; a word ends at a blank, a
// comma, a brace or the closing parenthesis.
func parseList(s string) (*seqBlock, bool) {
	c := &cursor{s: s}
	c.blanks()
	if !c.take('(') {
		return nil, false
	}
	c.blanks()
	var vars []string
	if c.take('{') {
		var ok bool
		if vars, ok = c.list(" \t,}", 0); !ok {
			return nil, false
		}
	} else {
		vars = append(vars, c.word(" \t,}"))
	}
	c.blanks()
	if !c.take(',') {
		return nil, false
	}
	var sets [][]string
	for {
		c.blanks()
		var set []string
		if c.take('{') {
			var ok bool
			if set, ok = c.list(" \t,})", len(vars)); !ok {
				return nil, false
			}
		} else {
			set = []string{c.word(" \t,})")}
		}
		for len(set) < len(vars) {
			set = append(set, "")
		}
		sets = append(sets, set)
		c.blanks()
		if c.take(')') {
			break
		}
		if !c.take(',') {
			return nil, false
		}
	}
	i := 0
	next := func() []string {
		if i == len(sets) {
			return nil
		}
		i++
		return sets[i-1]
	}
	return &seqBlock{vars: vars, next: next, text: strings.TrimLeft(c.s[c.i:], " \t")}, true
}

// cursor walks a ~LST specification.
type cursor struct {
	s string
	i int
}

func (c *cursor) blanks() {
	for c.i < len(c.s) && (c.s[c.i] == ' ' || c.s[c.i] == '\t') {
		c.i++
	}
}

func (c *cursor) take(b byte) bool {
	if c.i < len(c.s) && c.s[c.i] == b {
		c.i++
		return true
	}
	return false
}

// list reads "W, W...}" (after a "{"): words ending at a byte of stop, at
// most "most" of them when above 0 (no more values than variables).
func (c *cursor) list(stop string, most int) ([]string, bool) {
	var out []string
	for {
		c.blanks()
		if most > 0 && len(out) == most {
			return nil, false
		}
		out = append(out, c.word(stop))
		c.blanks()
		if c.take('}') {
			return out, true
		}
		if !c.take(',') {
			return nil, false
		}
	}
}

func (c *cursor) word(stop string) string {
	j := c.i
	for j < len(c.s) && !strings.ContainsRune(stop, rune(c.s[j])) {
		j++
	}
	w := c.s[c.i:j]
	c.i = j
	return w
}
