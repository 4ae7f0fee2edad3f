package keepalived

// Node is one statement: a keyword, its arguments on the same line, and the
// statements of its { } block, if it has one.
type Node struct {
	Key      string
	Args     []string
	Pos      Pos
	Block    bool
	Children []*Node
}

const maxNesting = 32

// Parse groups tokens into statements. A statement ends at the end of its
// line, at "{" (its block follows, over any number of lines, up to the
// matching "}") or at "}". Unbalanced braces come back as notes.
func Parse(toks []Token) ([]*Node, []Note) {
	p := &treeParser{toks: toks}
	nodes := p.block(0, Pos{})
	return nodes, p.notes
}

type treeParser struct {
	toks  []Token
	i     int
	notes []Note
}

func isBrace(t Token, b string) bool { return !t.Quoted && t.Text == b }

func (p *treeParser) block(depth int, open Pos) []*Node {
	var out []*Node
	for p.i < len(p.toks) {
		t := p.toks[p.i]
		if isBrace(t, "}") {
			p.i++
			if depth == 0 {
				p.notes = append(p.notes, Note{Pos: t.Pos, Keyword: "}", Why: "closes no block", Fix: "remove it", Lost: false})
				continue
			}
			return out
		}
		if isBrace(t, "{") {
			// A block without a keyword: keepalived ignores it; so do we.
			p.i++
			p.block(depth+1, t.Pos)
			p.notes = append(p.notes, Note{Pos: t.Pos, Keyword: "{", Why: "a block without a keyword is ignored", Fix: "put the keyword before it", Lost: true})
			continue
		}
		n := &Node{Key: t.Text, Pos: t.Pos}
		p.i++
		end := t.EOL
		for !end && p.i < len(p.toks) {
			a := p.toks[p.i]
			if isBrace(a, "{") || isBrace(a, "}") {
				break
			}
			n.Args = append(n.Args, a.Text)
			p.i++
			end = a.EOL
		}
		// The block may open on the statement's line or on the next one.
		if p.i < len(p.toks) && isBrace(p.toks[p.i], "{") {
			p.i++
			n.Block = true
			if depth+1 > maxNesting {
				p.notes = append(p.notes, Note{Pos: n.Pos, Keyword: n.Key, Why: "blocks nested too deep", Fix: "close the blocks", Lost: true})
				p.skipBlock()
			} else {
				n.Children = p.block(depth+1, n.Pos)
			}
		}
		out = append(out, n)
	}
	if depth > 0 {
		p.notes = append(p.notes, Note{Pos: open, Keyword: "{", Why: "block not closed before the end of the configuration", Fix: "add the missing }", Lost: true})
	}
	return out
}

func (p *treeParser) skipBlock() {
	for d := 1; p.i < len(p.toks) && d > 0; p.i++ {
		switch {
		case isBrace(p.toks[p.i], "{"):
			d++
		case isBrace(p.toks[p.i], "}"):
			d--
		}
	}
}
