// Package keepalived reads a keepalived.conf the way keepalived 2.2.7 does
// (includes, $VAR parameters, @config-id lines, comments, quotes, blocks) and
// translates its VRRP part into a govrrpd configuration. It does no I/O
// beyond reading the configuration files.
package keepalived

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Limits on what Read accepts: keepalived has none, but a configuration that
// exceeds these is a mistake (an include loop, a runaway parameter) or far
// more than govrrpd can load (its configuration is at most 4 MiB).
const (
	MaxIncludeDepth = 8       // nested include levels
	MaxTotalBytes   = 8 << 20 // all files together
	MaxFiles        = 1000    // files read
	maxExpandDepth  = 16      // nested parameter expansions
	maxLineBytes    = 64 << 10
	// MaxSequenceLines bounds the lines ~SEQ and ~LST make in all.
	MaxSequenceLines = 1 << 17
	// MaxExpandedBytes bounds the text parameters and sequences make in
	// all, beyond the files themselves.
	MaxExpandedBytes = MaxTotalBytes
	// MaxTokens bounds the words Read makes in all, whatever made them:
	// each costs about 100 bytes by the end of the translation however
	// short it is, so bytes alone do not bound memory (a 61 KB file of
	// one-letter words repeated by ~SEQ made 30 million). A million is
	// far more than a configuration govrrpd can load; keepalived.conf(5)'s
	// largest example (65024 instances, 1.8 million words, 20 MB) is
	// refused.
	MaxTokens = 1 << 20
)

// cost is what one step of reading makes; spend counts it against the
// limits above. Every path that reads or makes text (files, includes,
// parameters, ~SEQ, ~LST, any nesting of them) draws on this one budget.
type cost struct {
	files, bytes int // files read and their size
	words        int // tokens made
	text         int // bytes made by parameters and sequences
	rounds       int // lines made by ~SEQ and ~LST
}

// spend adds c to what was made so far, or says at pos which limit it
// crosses and what to do.
func (r *reader) spend(pos Pos, c cost) error {
	r.made.files += c.files
	r.made.bytes += c.bytes
	r.made.words += c.words
	r.made.text += c.text
	r.made.rounds += c.rounds
	const parts = "import the configuration in parts (one file per pair of routers)"
	switch m := r.made; {
	case m.files > MaxFiles:
		return &ReadError{pos, fmt.Sprintf("include: more than %d files in all", MaxFiles),
			"narrow the include patterns, or " + parts}
	case m.bytes > MaxTotalBytes:
		return &ReadError{pos, fmt.Sprintf("the files are larger than %d bytes in all", MaxTotalBytes), parts}
	case m.rounds > MaxSequenceLines:
		return &ReadError{pos, fmt.Sprintf("~SEQ and ~LST make more than %d lines in all", MaxSequenceLines),
			"make fewer rounds, or " + parts}
	case m.text > MaxExpandedBytes:
		return &ReadError{pos, fmt.Sprintf("parameters, ~SEQ and ~LST make more than %d bytes of text in all", MaxExpandedBytes),
			"use shorter parameters or fewer ~SEQ/~LST rounds, or " + parts}
	case m.words > MaxTokens:
		return &ReadError{pos, fmt.Sprintf("the configuration makes more than %d words in all, far more than govrrpd can load", MaxTokens),
			"use shorter parameters or fewer ~SEQ/~LST rounds, or " + parts}
	}
	return nil
}

// Pos is where a token came from.
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// Token is one word of the configuration: a keyword, an argument, "{" or "}".
type Token struct {
	Text   string
	Pos    Pos
	Quoted bool // came from a quoted string: never a brace
	EOL    bool // last token of its line
}

// Options change how the files are read.
type Options struct {
	// ConfigID is keepalived's -i/--config-id: lines "@ID ..." are kept only
	// when ID matches, "@^ID ..." only when it does not.
	ConfigID string
	// ReadFile and Glob replace the file system, for tests; nil means os.
	ReadFile func(string) ([]byte, error)
	Glob     func(string) ([]string, error)
}

// ReadError is a problem that stops reading: too deep, too big, unreadable.
type ReadError struct {
	Pos  Pos
	What string
	Fix  string // what to do instead, when there is something
}

// Error is "file:line: what; fix".
func (e *ReadError) Error() string {
	s := e.What
	if e.Fix != "" {
		s += "; " + e.Fix
	}
	if e.Pos.File == "" {
		return s
	}
	return e.Pos.String() + ": " + s
}

// hashMark stands for ${_HASH} until the line's comments are gone: it
// becomes "#" in the words.
const hashMark = "\x00"

type reader struct {
	opt    Options
	params map[string]string
	toks   []Token
	notes  []Note
	made   cost // in all so far, against the limits
}

// Read reads the file at path and everything it includes into tokens.
// Problems that keepalived would only warn about (a missing include) come
// back as notes.
func Read(path string, opt Options) ([]Token, []Note, error) {
	if opt.ReadFile == nil {
		opt.ReadFile = os.ReadFile
	}
	if opt.Glob == nil {
		opt.Glob = filepath.Glob
	}
	r := &reader{opt: opt, params: map[string]string{"_HASH": hashMark, "_INSTANCE": opt.ConfigID}}
	if err := r.file(path, Pos{}, 0); err != nil {
		return nil, r.notes, err
	}
	return r.toks, r.notes, nil
}

func (r *reader) file(path string, from Pos, depth int) error {
	if depth > MaxIncludeDepth {
		return &ReadError{from, fmt.Sprintf("include: more than %d levels of includes", MaxIncludeDepth),
			"check that no file includes itself, directly or through others"}
	}
	if err := r.spend(from, cost{files: 1}); err != nil {
		return err
	}
	data, err := r.opt.ReadFile(path)
	if err != nil {
		return &ReadError{from, err.Error(), ""}
	}
	if err := r.spend(from, cost{bytes: len(data)}); err != nil {
		return err
	}
	saved := r.params["_PWD"]
	r.params["_PWD"] = filepath.Dir(path)
	defer func() { r.params["_PWD"] = saved }()
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		pos := Pos{path, i + 1}
		line := strings.TrimRight(lines[i], "\r")
		if len(line) > maxLineBytes {
			return &ReadError{pos, fmt.Sprintf("line longer than %d bytes", maxLineBytes), "split the line"}
		}
		// A multi-line parameter definition: "$NAME= \" then lines ending in "\".
		if name, rest, ok := definition(line); ok && strings.TrimSpace(rest) == `\` {
			var body []string
			for i+1 < len(lines) {
				i++
				l := strings.TrimRight(lines[i], "\r")
				more := strings.HasSuffix(strings.TrimRight(l, " \t"), `\`)
				if more {
					l = strings.TrimSuffix(strings.TrimRight(l, " \t"), `\`)
				}
				body = append(body, l)
				if !more {
					break
				}
			}
			r.params[name] = strings.Join(body, "\n")
			continue
		}
		if err := r.line(line, pos, path, depth, 0); err != nil {
			return err
		}
	}
	return nil
}

// definition reports whether line is "$NAME=VALUE" (only blanks before "$").
func definition(line string) (name, value string, ok bool) {
	s := strings.TrimLeft(line, " \t")
	if !strings.HasPrefix(s, "$") {
		return "", "", false
	}
	eq := strings.IndexByte(s, '=')
	if eq < 2 || !validName(s[1:eq]) {
		return "", "", false
	}
	return s[1:eq], s[eq+1:], true
}

func validName(n string) bool {
	if n == "" || (n[0] >= '0' && n[0] <= '9') {
		return false
	}
	for _, c := range n {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// line handles one logical line: the include keyword (detected before
// conditionals and parameters, as keepalived does), conditionals, parameter
// definitions and substitution, then words.
func (r *reader) line(line string, pos Pos, path string, depth, expand int) error {
	if expand > maxExpandDepth {
		return &ReadError{pos, fmt.Sprintf("parameters nested more than %d deep", maxExpandDepth),
			"check that no parameter uses itself, directly or through others"}
	}
	if expand > 0 {
		if err := r.spend(pos, cost{text: len(line)}); err != nil {
			return err
		}
	}
	// Only a line that names include is split twice.
	if expand == 0 && strings.Contains(line, "include") {
		if f := words(nil, stripComment(line)); len(f) >= 1 && isInclude(f[0].Text) {
			if len(f) < 2 {
				r.notes = append(r.notes, Note{Pos: pos, Keyword: f[0].Text, Why: "no file named", Fix: "name the file to include", Lost: true})
				return nil
			}
			return r.include(f[1].Text, pos, path, depth)
		}
	}
	s := strings.TrimLeft(line, " \t")
	if strings.HasPrefix(s, "@") {
		sp := strings.IndexAny(s, " \t")
		if sp < 0 {
			return nil
		}
		id, neg := s[1:sp], false
		if strings.HasPrefix(id, "^") {
			id, neg = id[1:], true
		}
		if (id == r.opt.ConfigID) == neg {
			return nil
		}
		s = s[sp:]
	}
	if name, value, ok := definition(s); ok {
		r.params[name] = value
		return nil
	}
	s = stripComment(s)
	if t := strings.TrimLeft(s, " \t"); isSeq(t) {
		return r.sequence(t, pos, path, depth, expand)
	}
	if strings.Contains(s, "$") {
		out, changed, err := r.substitute(s, pos)
		if err != nil {
			return err
		}
		if changed {
			// The result may hold conditionals, definitions or several lines.
			for _, l := range strings.Split(out, "\n") {
				if err := r.line(l, pos, path, depth, expand+1); err != nil {
					return err
				}
			}
			return nil
		}
	}
	n := len(r.toks)
	r.toks = words(r.toks, s)
	ws := r.toks[n:]
	if len(ws) > 0 {
		ws[len(ws)-1].EOL = true
	}
	for i := range ws {
		ws[i].Pos = pos
	}
	return r.spend(pos, cost{words: len(ws)})
}

func isInclude(w string) bool {
	switch w {
	case "include", "includer", "includem", "includew", "includeb", "includea":
		return true
	}
	return false
}

func (r *reader) include(pattern string, pos Pos, path string, depth int) error {
	if !filepath.IsAbs(pattern) {
		pattern = filepath.Join(filepath.Dir(path), pattern)
	}
	matches, err := r.opt.Glob(pattern)
	if err != nil || len(matches) == 0 {
		r.notes = append(r.notes, Note{Pos: pos, Keyword: "include", Why: fmt.Sprintf("no file matches %s", pattern),
			Fix: "check the path (keepalived skips it too)", Lost: false})
		return nil
	}
	sort.Strings(matches)
	for _, m := range matches {
		if err := r.file(m, pos, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// substitute replaces $NAME (followed by a blank or the end) and ${NAME}
// for defined names; undefined ones stay as written.
func (r *reader) substitute(s string, pos Pos) (string, bool, error) {
	var b strings.Builder
	changed := false
	for i := 0; i < len(s); {
		if s[i] != '$' {
			b.WriteByte(s[i])
			i++
			continue
		}
		name, end := "", 0
		if i+1 < len(s) && s[i+1] == '{' {
			if j := strings.IndexByte(s[i+2:], '}'); j >= 0 {
				name, end = s[i+2:i+2+j], i+3+j
			}
		} else {
			j := i + 1
			for j < len(s) && s[j] != ' ' && s[j] != '\t' {
				j++
			}
			name, end = s[i+1:j], j
		}
		v, ok := r.params[name]
		if name == "" || !ok {
			b.WriteByte('$')
			i++
			continue
		}
		b.WriteString(v)
		changed = true
		i = end
		if b.Len() > maxLineBytes*4 {
			return "", false, &ReadError{pos, fmt.Sprintf("parameters make a line of more than %d bytes", maxLineBytes*4),
				"use shorter parameters"}
		}
	}
	return b.String(), changed, nil
}

// stripComment cuts a line at "!" or "#" outside double quotes.
func stripComment(s string) string {
	in := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			in = !in
		case '!', '#':
			if !in {
				return s[:i]
			}
		}
	}
	return s
}

// words splits a line into words and appends them to out: blanks separate,
// double quotes group (the quotes are removed), and "{" and "}" outside
// quotes are words of their own.
func words(out []Token, s string) []Token {
	var cur strings.Builder
	have, quoted := false, false
	flush := func() {
		if have {
			out = append(out, Token{Text: strings.ReplaceAll(cur.String(), hashMark, "#"), Quoted: quoted})
		}
		cur.Reset()
		have, quoted = false, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				j = len(s) - i - 1
			}
			cur.WriteString(s[i+1 : i+1+j])
			have, quoted = true, true
			i += j + 1
		case c == ' ' || c == '\t':
			flush()
		case c == '$' && i+1 < len(s) && s[i+1] == '{':
			// An undefined ${NAME} stays as written, braces included.
			j := strings.IndexByte(s[i:], '}')
			if j < 0 {
				j = 1
			}
			cur.WriteString(s[i : i+j+1])
			have = true
			i += j
		case c == '{' || c == '}':
			flush()
			out = append(out, Token{Text: string(c)})
		default:
			cur.WriteByte(c)
			have = true
		}
	}
	flush()
	return out
}
