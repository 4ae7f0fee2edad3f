package keepalived

import (
	"errors"
	"runtime"
	"strings"
	"testing"
)

// TestReadSequences: keepalived.conf(5)'s "Sequence blocks" and "List
// blocks", with the man page's own examples, expanded as keepalived 2.2.7's
// read_line does (lib/parser.c: add_seq, add_lst): the rest of the line once
// per value, nested left to right, on the line of the ~SEQ.
func TestReadSequences(t *testing.T) {
	for _, tc := range []struct {
		name, conf, want string
	}{
		{"seq start end", "~SEQ(SUBNET, 0, 3) ip_address 10.0.${SUBNET}.1\n",
			"/c:1 ip_address|10.0.0.1;/c:1 ip_address|10.0.1.1;/c:1 ip_address|10.0.2.1;/c:1 ip_address|10.0.3.1;"},
		{"seq hex with a step", "~SEQx(SUBNET, 0x90, 0x10, 0xc0) ip_address fe80::20:${SUBNET}:1\n",
			"/c:1 ip_address|fe80::20:90:1;/c:1 ip_address|fe80::20:a0:1;/c:1 ip_address|fe80::20:b0:1;/c:1 ip_address|fe80::20:c0:1;"},
		{"seq decimal arguments in hex", "~SEQx(S, 144, 16, 160) a ${S}\n", "/c:1 a|90;/c:1 a|a0;"},
		{"seq end only", "~SEQ(I, 3) a $I\n", "/c:1 a|1;/c:1 a|2;/c:1 a|3;"},
		{"seq end only negative", "~SEQ(I, -2) a $I\n", "/c:1 a|-1;/c:1 a|-2;"},
		{"seq end only zero", "~SEQ(I, 0) a $I\n", "/c:1 a|1;/c:1 a|0;"},
		{"seq down", "~SEQ(I, 3, 1) a $I\n", "/c:1 a|3;/c:1 a|2;/c:1 a|1;"},
		{"seq octal", "~SEQ(I, 010, 4, 012) a $I\n", "/c:1 a|8;"},
		{"seq parameters in the arguments", "$N=2\n~SEQ(I, $N) a $I\n", "/c:2 a|1;/c:2 a|2;"},
		{"seq nested", "~SEQx(AD2, 0x90, 0x10, 0xa0) ~SEQx(AD1, 0x12, -1, 0x11) fe81::10:${AD2}:${AD1}\n",
			"/c:1 fe81::10:90:12;/c:1 fe81::10:90:11;/c:1 fe81::10:a0:12;/c:1 fe81::10:a0:11;"},
		{"seq in a block", "v {\n  ~SEQ(I, 2) a$I\n}\n", "/c:1 v{/c:2 a1;/c:2 a2;};"},
		{"seq of a multi-line parameter", "$B= \\\nb ${I} { \\\n c \\\n}\n~SEQ(I, 2) $B\n", "/c:5 b|1{/c:5 c;};/c:5 b|2{/c:5 c;};"},
		{"seq after a config id", "@lb1 ~SEQ(I, 2) a $I\n@lb2 ~SEQ(I, 2) b $I\n", "/c:1 a|1;/c:1 a|2;"},
		{"seq comment", "~SEQ(I, 2) a $I # x\n", "/c:1 a|1;/c:1 a|2;"},
		{"list", "~LST(V, a, b, c) p $V\n", "/c:1 p|a;/c:1 p|b;/c:1 p|c;"},
		{"list of pairs", "~LST({IP, IP1}, {10,1},{20,4},{5,6},{12,8}) 192.168.${IP}.${IP1}\n",
			"/c:1 192.168.10.1;/c:1 192.168.20.4;/c:1 192.168.5.6;/c:1 192.168.12.8;"},
		{"list missing values are blank", "~LST({A, B}, {1}, 2) p x${A}y${B}z\n", "/c:1 p|x1yz;/c:1 p|x2yz;"},
		{"lists nested", "~LST(IP, 1, 2) ~LST(IP1, 5,6) 192.169.${IP}.${IP1}\n",
			"/c:1 192.169.1.5;/c:1 192.169.1.6;/c:1 192.169.2.5;/c:1 192.169.2.6;"},
		{"list and seq", "~LST({IP, IP1}, {10,1},{20,4}) ~SEQ(IP2,168,2,170) 192.${IP2}.${IP}.${IP1}\n",
			"/c:1 192.168.10.1;/c:1 192.170.10.1;/c:1 192.168.20.4;/c:1 192.170.20.4;"},
		{"seq include", "~SEQ(I, 2) include /inc${I}.conf\n", "/inc1.conf:1 x|1;/inc2.conf:1 x|2;"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := memFS{"/c": tc.conf, "/inc1.conf": "x 1\n", "/inc2.conf": "x 2\n"}
			if got := readClean(t, fs, "lb1"); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestReadSequenceErrors: a ~SEQ or ~LST keepalived refuses is left out
// with a note (keepalived reports it and skips the line).
func TestReadSequenceErrors(t *testing.T) {
	for _, conf := range []string{
		"~SEQ(I) a\n", "~SEQ(, 1) a\n", "~SEQ I, 1 a\n", "~SEQ(I, 1, 0, 3) a\n", "~SEQ(I, 3, 1, 1) a\n",
		"~SEQ(I, 1, 2, 3, 4) a\n", "~SEQ(I, x) a\n", "~SEQx(I, -3) a\n", "~SEQ(I, 1\n",
		"~SEQ(I, 0, 1, 00000000000000000000000000000000000000000000000000000000000000009) a\n",
		"~LST(V) a\n", "~LST({A, B}, {1, 2, 3}) a\n", "~LST(V, 1 a\n", "~LST V, 1) a\n",
	} {
		toks, notes, err := Read("/c", memFS{"/c": conf + "p 1\n"}.opts(""))
		if err != nil {
			t.Errorf("%q: %v", conf, err)
			continue
		}
		if len(notes) != 1 || !notes[0].Lost || !strings.Contains(notes[0].Keyword, "~") {
			t.Errorf("%q: notes %v", conf, notes)
		}
		if nodes, _ := Parse(toks); flat(nodes) != "/c:2 p|1;" {
			t.Errorf("%q: %s", conf, flat(nodes))
		}
	}
}

// manPageVI4 is keepalived.conf(5)'s largest sequence example (Sequence
// blocks): 65024 instances, 1.8 million words.
const manPageVI4 = `$VI4= \
track_file offset_instance_4.${IF}.${NUM}.${ID} { \
    file "${_PWD}/679/track_files/4.${IF}.${NUM}.${ID}" \
    weight -100 \
} \
vrrp_instance vrrp4.${IF}.${NUM}.${ID} { \
    interface bond${IF}.${NUM} \
    use_vmac vrrp4.${IF}.${NUM}.${ID} \
    virtual_router_id ${ID} \
    priority 130 \
    virtual_ipaddress { \
        10.${IF}.${NUM}.${ID}/24 \
    } \
    track_file { \
        offset_instance_4.${IF}.${NUM}.${ID} \
    } \
}

~SEQ(IF,0,7) ~SEQ(NUM,0,31) ~SEQ(ID,1,254) $VI4
`

// TestReadBudget: everything Read makes draws on one budget (files and
// their bytes, words, text made by parameters and sequences, ~SEQ/~LST
// lines), so a small file cannot make a huge configuration. Short words
// are the worst case: a 61 KB file of one-letter words repeated by ~SEQ
// made 30.7 million tokens (2.9 GB of heap, 42 s) while every byte limit
// held. The refusal names the line where the limit was crossed, the limit
// and what to do, and reading stops before it costs much memory.
func TestReadBudget(t *testing.T) {
	words := strings.Repeat("a ", 30000) // 60 KB, 30000 tokens
	for _, tc := range []struct {
		name string
		fs   memFS
		at   string // the file:line named
		want string // the limit named
	}{
		{"seq of short words", memFS{"/a": "$X=" + words + "\n~SEQ(I, 1000) $X\n"}, "/a:2", "words"},
		{"list of short words", memFS{"/a": "$X=" + words + "\n~LST(V" + strings.Repeat(",v", 1000) + ") $X\n"}, "/a:2", "words"},
		{"nested sequences", memFS{"/a": "$X=" + words + "\n~SEQ(I, 10) ~SEQ(J, 100) $X\n"}, "/a:2", "words"},
		{"nested parameters", memFS{"/a": "$X=" + words + "\n$Y=$X $X $X $X\n~SEQ(I, 100) $Y\n"}, "/a:3", "words"},
		{"multi-line parameter", memFS{"/a": "$X= \\\n" + strings.Repeat(words+"\\\n", 3) + "b\n~SEQ(I, 100) $X\n"}, "/a:6", "words"},
		{"includes", memFS{"/a": strings.Repeat("include /w\n", 200), "/w": words + "\n"}, "/w:1", "words"},
		{"one file", memFS{"/a": strings.Repeat(words+"\n", 100)}, "/a:35", "words"},
		{"long words", memFS{"/a": "$X=" + strings.Repeat("x", 60<<10) + "\n~SEQ(I, 1200) a $X\n"}, "/a:2", "bytes"},
		{"a million lines", memFS{"/a": "~SEQ(I, 1000000) a $I\n"}, "/a:1", "lines"},
		{"a million nested lines", memFS{"/a": "~SEQ(I, 1000) ~SEQ(J, 1000) a $I $J\n"}, "/a:1", "lines"},
		{"the man page's 65024 instances", memFS{"/a": manPageVI4}, "/a:19", "bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, _, err := Read("/a", tc.fs.opts(""))
			runtime.ReadMemStats(&after)
			var re *ReadError
			if !errors.As(err, &re) {
				t.Fatalf("not refused: %v", err)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, tc.at+": ") || !strings.Contains(msg, tc.want) || re.Fix == "" {
				t.Errorf("error %q: want %s, the %s limit and what to do", msg, tc.at, tc.want)
			}
			// Reading a million tokens allocates about 250 MB in all (the
			// token slice grows by a quarter at a time); 30 million
			// allocated gigabytes.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 400<<20 {
				t.Errorf("allocated %d MB before refusing", alloc>>20)
			}
		})
	}
	// Within the budget: the man page's example with one word per line.
	ok := memFS{"/a": "~SEQ(IF,0,7) ~SEQ(NUM,0,31) ~SEQ(ID,1,254) a ${IF}.${NUM}.${ID}\n"}
	toks, _, err := Read("/a", ok.opts(""))
	if err != nil || len(toks) != 2*65024 {
		t.Errorf("65024 lines: %d tokens, %v", len(toks), err)
	}
}
