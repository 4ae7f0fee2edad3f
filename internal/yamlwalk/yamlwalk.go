// Package yamlwalk reads a YAML node tree strictly, for the configuration
// (internal/config) and the simulator's scenarios (sim/scenario): unknown
// and repeated keys are refused with the nearest known key as a suggestion,
// every value is checked, and every refusal says where (file:line:col), what
// is wrong and what to write instead. It keeps the first MaxErrors errors and
// counts the rest, so a file of a million mistakes costs no more than fifty.
package yamlwalk

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Input limits. Beyond these a file is a mistake or an attack, and refusing
// it early keeps reading fast and small.
const (
	// MaxFileSize is the largest file read.
	MaxFileSize = 4 << 20
	// MaxAliasNodes bounds what YAML aliases may add to the file: each
	// alias stands for a copy of its anchor's nodes, so a small file of
	// aliases of aliases can stand for billions of nodes.
	MaxAliasNodes = 100_000
	// MaxErrors is how many errors are kept and printed; the rest are counted.
	MaxErrors = 50
	// maxText bounds the text of one error: values from the file are quoted
	// in it, and a value may be megabytes long.
	maxText = 300
)

// Pos is a place in a file.
type Pos struct {
	File      string
	Line, Col int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

// Error is one refused value: where, what is wrong, what to write instead.
type Error struct {
	Pos  Pos
	What string
	Fix  string
}

func (e *Error) Error() string {
	if e.Fix == "" {
		return fmt.Sprintf("%s: %s", e.Pos, e.What)
	}
	return fmt.Sprintf("%s: %s; %s", e.Pos, e.What, e.Fix)
}

// Errors is the problems found in one file: the first MaxErrors of them,
// and how many more there were.
type Errors struct {
	List []*Error
	More int
}

// Clip cuts s to a bounded length for an error's text.
func Clip(s string) string {
	if len(s) <= maxText {
		return s
	}
	return s[:maxText] + "…"
}

// Add keeps e, or counts it once MaxErrors are kept.
func (es *Errors) Add(e *Error) {
	if len(es.List) < MaxErrors {
		es.List = append(es.List, e)
		return
	}
	es.More++
}

// Len is how many errors were found, kept or counted.
func (es *Errors) Len() int { return len(es.List) + es.More }

func (es *Errors) Error() string {
	var b strings.Builder
	for i, e := range es.List {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	if es.More > 0 {
		fmt.Fprintf(&b, "\nand %d more", es.More)
	}
	return b.String()
}

// Summary is es on one bounded line for a log: the count and the first n.
func (es *Errors) Summary(n int) string {
	var b strings.Builder
	if es.Len() == 1 {
		b.WriteString("1 error: ")
	} else {
		fmt.Fprintf(&b, "%d errors: ", es.Len())
	}
	for i, e := range es.List[:min(n, len(es.List))] {
		if i > 0 {
			b.WriteString(" | ")
		}
		b.WriteString(e.Error())
	}
	if rest := es.Len() - min(n, len(es.List)); rest > 0 {
		fmt.Fprintf(&b, " | and %d more", rest)
	}
	return b.String()
}

// Walker reads one file's nodes and collects what is wrong with them.
type Walker struct {
	File   string
	Reader string // who reads the file, for messages: "govrrpd"
	Errs   Errors
}

// Pos is where n is.
func (w *Walker) Pos(n *yaml.Node) Pos { return Pos{File: w.File, Line: n.Line, Col: n.Column} }

// Fail records an error at n: what (format, args) and what to write instead.
func (w *Walker) Fail(n *yaml.Node, fix, format string, args ...any) {
	w.Errs.Add(&Error{Pos: w.Pos(n), What: Clip(fmt.Sprintf(format, args...)), Fix: Clip(fix)})
}

// FailAt records an error at the start of line.
func (w *Walker) FailAt(line int, fix, what string) {
	w.Errs.Add(&Error{Pos: Pos{File: w.File, Line: line, Col: 1}, What: Clip(what), Fix: fix})
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// SyntaxError adds the errors of the YAML decoder, one per line of its
// message, at the line it names.
func (w *Walker) SyntaxError(err error) {
	for _, line := range strings.Split(err.Error(), "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(line, "yaml: unmarshal errors:"))
		if line == "" {
			continue
		}
		e := &Error{Pos: Pos{File: w.File, Line: 1, Col: 1}, What: "YAML syntax: " + line, Fix: "check the indentation and quoting there"}
		if m := yamlLine.FindStringSubmatch(line); m != nil {
			e.Pos.Line, _ = strconv.Atoi(m[1])
			e.What = "YAML syntax near here: " + m[2]
		}
		e.What = Clip(e.What)
		w.Errs.Add(e)
	}
}

// Decode reads the first YAML document of data within the limits and
// returns its root, or nil after recording why there is none (emptyFix says
// what an empty file should hold). extra, called when the caller has
// reported the rest, refuses a second document: nothing in it would be read.
func (w *Walker) Decode(data []byte, emptyFix string) (root *yaml.Node, extra func()) {
	extra = func() {}
	if len(data) > MaxFileSize {
		w.FailAt(1, "split it, or remove what is not configuration", fmt.Sprintf("the file is larger than %d MiB", MaxFileSize>>20))
		return nil, extra
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && err != io.EOF {
		w.SyntaxError(err)
		return nil, extra
	}
	if len(doc.Content) == 0 {
		w.FailAt(1, emptyFix, "the file is empty")
		return nil, extra
	}
	// Empty documents (a bare --- or ...) say nothing: the first one that
	// is not empty is what would be ignored.
	var next yaml.Node
	nextErr := dec.Decode(&next)
	for nextErr == nil && (len(next.Content) == 0 || next.Content[0].Tag == "!!null") {
		next = yaml.Node{}
		nextErr = dec.Decode(&next)
	}
	if n := aliasNodes(&doc); n > MaxAliasNodes {
		w.FailAt(1, "write the values out, or use fewer aliases (*name)", fmt.Sprintf("YAML aliases add more than %d nodes to the file", MaxAliasNodes))
		return nil, extra
	}
	extra = func() {
		if nextErr == io.EOF {
			return
		}
		if nextErr != nil {
			w.SyntaxError(nextErr)
		} else {
			w.FailAt(next.Line, "keep one document: remove the --- line and merge what follows it", "a second YAML document starts here; "+w.Reader+" reads only one")
		}
	}
	return doc.Content[0], extra
}

// aliasNodes counts the nodes that aliases add to the tree below n, up to
// a little over MaxAliasNodes, in time linear in the file: each alias adds
// a copy of its anchor, whose size (aliases inside it expanded) is computed
// once per anchor.
func aliasNodes(n *yaml.Node) int {
	const limit = MaxAliasNodes + 1
	size := map[*yaml.Node]int{}
	var expanded func(n *yaml.Node) int
	expanded = func(n *yaml.Node) int {
		if s, ok := size[n]; ok {
			return s
		}
		size[n] = limit // an anchor that contains itself
		s := 1
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			s += expanded(n.Alias)
		}
		for _, c := range n.Content {
			s = min(s+expanded(c), limit)
		}
		size[n] = s
		return s
	}
	added := 0
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		if added >= limit {
			return
		}
		if depth > 10000 {
			added = limit // nesting no file needs
			return
		}
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			added = min(added+expanded(n.Alias), limit)
		}
		for _, c := range n.Content {
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	return added
}

// Mapping calls fn for each key of n in order, refusing repeated keys and,
// unless known is nil, keys not in known, suggesting the nearest. where
// names n in messages. A null n is an empty mapping.
func (w *Walker) Mapping(n *yaml.Node, where string, known []string, fn func(k, v *yaml.Node)) {
	n = Resolve(n)
	if n.Kind != yaml.MappingNode {
		if n.Tag == "!!null" {
			return
		}
		w.Fail(n, "write `key: value` lines indented below it", "%s must be a mapping, not %s", where, KindName(n))
		return
	}
	seen := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], Resolve(n.Content[i+1])
		if first := seen[k.Value]; first != nil {
			// The YAML library keeps the last value silently; a second
			// "priority:" is almost always a mistake worth stopping for.
			w.Fail(k, fmt.Sprintf("keep one of them (the first is at line %d)", first.Line), "%q is set twice", k.Value)
			continue
		}
		seen[k.Value] = k
		if known != nil && !slices.Contains(known, k.Value) {
			fix := "remove it; valid keys here: " + strings.Join(known, ", ")
			if s := Closest(k.Value, known); s != "" {
				fix = fmt.Sprintf("did you mean %q?", s)
			}
			w.Fail(k, fix, "unknown key %q in %s", k.Value, where)
			continue
		}
		fn(k, v)
	}
}

// Seq returns the items of the list n (none for a null n); where names it.
func (w *Walker) Seq(n *yaml.Node, where string) []*yaml.Node {
	n = Resolve(n)
	if n.Kind != yaml.SequenceNode {
		if n.Tag == "!!null" {
			return nil
		}
		w.Fail(n, "write a list: `- item` lines, or [a, b]", "%s must be a list, not %s", where, KindName(n))
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = Resolve(c)
	}
	return out
}

// Str is a scalar's text.
func (w *Walker) Str(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		w.Fail(n, "write a single value", "expected a string, got %s", KindName(n))
		return ""
	}
	return n.Value
}

// OneOf is a scalar that must be one of choices ("" when it is not).
func (w *Walker) OneOf(n *yaml.Node, choices ...string) string {
	s := w.Str(n)
	if s == "" && n.Kind != yaml.ScalarNode {
		return ""
	}
	if !slices.Contains(choices, s) {
		w.Fail(n, "write one of: "+strings.Join(choices, ", "), "%q is not valid here", s)
		return ""
	}
	return s
}

// Bool is a YAML boolean.
func (w *Walker) Bool(n *yaml.Node) bool {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		w.Fail(n, "write true or false", "expected true or false, got %q", n.Value)
		return false
	}
	return n.Value == "true" || n.Value == "True" || n.Value == "TRUE"
}

// Int is a whole number lo..hi (lo when it is not); fix says what to write.
func (w *Walker) Int(n *yaml.Node, lo, hi int, fix string) int {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		w.Fail(n, fix, "expected a whole number, got %q", n.Value)
		return lo
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil || v < lo || v > hi {
		w.Fail(n, fix, "%s is out of range %d..%d", n.Value, lo, hi)
		return lo
	}
	return v
}

// Duration is a duration lo..hi with a unit (lo when it is not).
func (w *Walker) Duration(n *yaml.Node, lo, hi time.Duration) time.Duration {
	if n.Kind != yaml.ScalarNode {
		w.Fail(n, "write a duration such as 1s or 100ms", "expected a duration, got %s", KindName(n))
		return lo
	}
	if n.Tag == "!!int" || n.Tag == "!!float" {
		w.Fail(n, fmt.Sprintf("write %ss (or %sms)", n.Value, n.Value), "%s has no unit", n.Value)
		return lo
	}
	d, err := time.ParseDuration(n.Value)
	if err != nil {
		w.Fail(n, "write a duration such as 1s, 100ms or 1m30s", "%q is not a duration", n.Value)
		return lo
	}
	if d < lo || d > hi {
		w.Fail(n, fmt.Sprintf("write %v..%v", lo, hi), "%v is out of range", d)
		return lo
	}
	return d
}

// Addr is an IP address (IPv4-mapped ones unmapped).
func (w *Walker) Addr(n *yaml.Node) (netip.Addr, bool) {
	a, err := netip.ParseAddr(w.Str(n))
	if err != nil {
		if n.Kind == yaml.ScalarNode {
			w.Fail(n, "write an address such as 10.77.0.2 or fd77::2", "%q is not an IP address", n.Value)
		}
		return a, false
	}
	return a.Unmap(), true
}

// Prefix is address/prefix-length, or an address alone as a host prefix.
func (w *Walker) Prefix(n *yaml.Node) (netip.Prefix, bool) {
	s := w.Str(n)
	if n.Kind != yaml.ScalarNode {
		return netip.Prefix{}, false
	}
	if !strings.Contains(s, "/") {
		a, ok := w.Addr(n)
		if !ok {
			return netip.Prefix{}, false
		}
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	pfx, err := netip.ParsePrefix(s)
	if err != nil {
		w.Fail(n, "write address/prefix-length, e.g. 10.77.0.254/24 or fd77::254/64", "%q is not an address/prefix", s)
		return pfx, false
	}
	return netip.PrefixFrom(pfx.Addr().Unmap(), pfx.Bits()), true
}

// Resolve follows aliases to the node they stand for.
func Resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		return Resolve(n.Content[0])
	}
	return n
}

// KindName says what n is, for messages.
func KindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	if n.Tag == "!!null" {
		return "nothing"
	}
	return fmt.Sprintf("%q", n.Value)
}

// Closest suggests the known word nearest to s, if it is near enough to be
// a typo.
func Closest(s string, known []string) string {
	best, bestD := "", min(3, (len(s)+1)/2)
	for _, k := range known {
		if d := editDistance(s, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
