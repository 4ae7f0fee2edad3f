package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"govrrp/internal/pcapfile"
	"govrrp/vrrp"
)

const decodeUsage = `Usage: govrrp decode [--summary] FILE

Reads a pcap or pcapng capture (FILE "-" is standard input) and prints one
JSON object per VRRP packet (IP protocol 112); other packets are skipped.

Fields: frame (number in the capture), time (RFC 3339, UTC, nanoseconds),
src, dst, ttl (hop limit for IPv6), version, type, vrid, priority, count,
advert_interval_ms, auth_type (VRRPv2), addresses, checksum ("ok"/"bad"),
checksum_form ("pseudo-header"/"plain"; absent when a bad VRRPv3 IPv4
checksum leaves it unknown), error and error_reason (the first receive check
that fails among those needing no local configuration: TTL, version, type,
length, checksum, zero interval), warnings (checks that fail but keep the
advert). A packet the codec cannot decode still gets a line with what is
known and its error.

  --summary   print an aligned table for people instead of JSON; time is
              seconds since the first packet of the capture

Exit status: 0 done, 1 the capture is damaged after some packets (those are
printed), 2 usage error or FILE is not a readable capture.
`

// decodeRecord is one JSON line. Fields the codec could not decode are
// pointers so that they are omitted rather than printed as zero.
type decodeRecord struct {
	Frame            int      `json:"frame"`
	Time             string   `json:"time"`
	Src              string   `json:"src"`
	Dst              string   `json:"dst"`
	TTL              uint8    `json:"ttl"`
	Version          *uint8   `json:"version,omitempty"`
	Type             *uint8   `json:"type,omitempty"`
	VRID             *uint8   `json:"vrid,omitempty"`
	Priority         *uint8   `json:"priority,omitempty"`
	Count            *int     `json:"count,omitempty"`
	AdvertIntervalMS *int64   `json:"advert_interval_ms,omitempty"`
	AuthType         string   `json:"auth_type,omitempty"`
	Addresses        []string `json:"addresses,omitempty"`
	Checksum         string   `json:"checksum,omitempty"`
	ChecksumForm     string   `json:"checksum_form,omitempty"`
	Error            string   `json:"error,omitempty"`
	ErrorReason      string   `json:"error_reason,omitempty"`
	Warnings         []string `json:"warnings,omitempty"`

	// For the summary table.
	at       time.Time
	interval time.Duration
}

const rfc3339Nano = "2006-01-02T15:04:05.000000000Z07:00" // fixed width, unlike time.RFC3339Nano

func runDecode(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("decode", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, decodeUsage) }
	summary := fs.Bool("summary", false, "print a table instead of JSON lines")
	pos, err := parseInterspersed(fs, args)
	if err == flag.ErrHelp {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "govrrp decode: need exactly one capture file")
		fmt.Fprint(stderr, decodeUsage)
		return exitUsage
	}
	name := pos[0]
	var in io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(stderr, "govrrp decode: %v\n", err)
			return exitUsage
		}
		defer f.Close()
		in = f
	}
	r, err := pcapfile.NewReader(in)
	if err != nil {
		fmt.Fprintf(stderr, "govrrp decode: %s: %v\n", name, err)
		return exitUsage
	}

	var out recordWriter
	if *summary {
		out = newTableWriter(stdout)
	} else {
		out = &jsonWriter{enc: json.NewEncoder(stdout)}
	}
	var first time.Time
	var m vrrp.Message
	var readErr error
	for {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
		if p.Index == 1 {
			first = p.Time
		}
		if p.IPVersion == 0 || p.Protocol != vrrp.IPProtocol {
			continue
		}
		if err := out.write(decodePacket(&m, p), first); err != nil {
			fmt.Fprintf(stderr, "govrrp decode: %v\n", err)
			return exitFail
		}
	}
	if err := out.flush(); err != nil {
		fmt.Fprintf(stderr, "govrrp decode: %v\n", err)
		return exitFail
	}
	if readErr != nil {
		fmt.Fprintf(stderr, "govrrp decode: %s: %v\n", name, readErr)
		return exitFail
	}
	return exitOK
}

// decodePacket describes one IP packet of protocol 112. m is reused between
// packets to avoid allocating.
func decodePacket(m *vrrp.Message, p pcapfile.Packet) decodeRecord {
	rec := decodeRecord{
		Frame: p.Index,
		Time:  p.Time.UTC().Format(rfc3339Nano),
		Src:   addrString(p.Src),
		Dst:   addrString(p.Dst),
		TTL:   p.TTL,
		at:    p.Time,
	}
	fam := vrrp.IPv4
	if p.IPVersion == 6 {
		fam = vrrp.IPv6
	}
	if p.Err != nil {
		rec.Error, rec.ErrorReason = p.Err.Error(), captureReason(p.Err)
	}
	if !p.Src.IsValid() {
		return rec // the IP header itself was cut
	}
	if err := m.Decode(p.Payload, fam); err == nil {
		rec.fill(m)
		form, err := vrrp.VerifyChecksum(p.Payload[:m.Len()], m.Version, fam, p.Src, p.Dst, vrrp.ChecksumPseudoHeader)
		rec.Checksum = "ok"
		if err != nil {
			rec.Checksum = "bad"
		}
		// A bad VRRPv3 IPv4 checksum matches neither form, so the form is
		// unknown; v2 and IPv6 have only one.
		if err == nil || m.Version == 2 || fam == vrrp.IPv6 {
			rec.ChecksumForm = form.String()
		}
	}
	if p.Err != nil {
		return rec // the payload is not the whole datagram: do not judge it
	}
	// The receive checks that need no configuration, in the spec's order.
	var vm vrrp.Message
	res, err := vrrp.Validate(&vm, p.Payload, vrrp.IPHeader{Src: p.Src, Dst: p.Dst, TTL: p.TTL}, nil)
	if err != nil {
		rec.Error, rec.ErrorReason = err.Error(), vrrp.Reason(err)
	}
	for _, w := range res.Warnings.Errors() {
		rec.Warnings = append(rec.Warnings, vrrp.Reason(w))
	}
	return rec
}

func (rec *decodeRecord) fill(m *vrrp.Message) {
	v, typ, vrid, prio, count := m.Version, m.Type, m.VRID, m.Priority, len(m.Addresses)
	ms := m.Interval.Milliseconds()
	rec.Version, rec.Type, rec.VRID, rec.Priority, rec.Count, rec.AdvertIntervalMS = &v, &typ, &vrid, &prio, &count, &ms
	rec.interval = m.Interval
	if m.Version == 2 {
		rec.AuthType = m.AuthType.String()
	}
	rec.Addresses = make([]string, 0, count) // [] rather than absent when the count is 0
	for _, a := range m.Addresses {
		rec.Addresses = append(rec.Addresses, a.String())
	}
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// captureReason is the error_reason token of a frame the capture reader
// could not take apart.
func captureReason(err error) string {
	switch {
	case errors.Is(err, pcapfile.ErrPayloadTruncated):
		return "capture_truncated"
	case errors.Is(err, pcapfile.ErrFragment):
		return "fragment"
	case errors.Is(err, pcapfile.ErrExtensionHeader):
		return "ipv6_extension_header"
	case errors.Is(err, pcapfile.ErrShortFrame):
		return "short_frame"
	}
	return "ip_header"
}

type recordWriter interface {
	write(rec decodeRecord, first time.Time) error
	flush() error
}

type jsonWriter struct{ enc *json.Encoder }

func (w *jsonWriter) write(rec decodeRecord, _ time.Time) error { return w.enc.Encode(rec) }
func (w *jsonWriter) flush() error                              { return nil }

type tableWriter struct{ tw *tabwriter.Writer }

func newTableWriter(out io.Writer) *tableWriter {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tSRC → DST\tV\tVRID\tPRIO\tINTERVAL\tADDRESSES\tCHECKSUM\tSTATUS")
	return &tableWriter{tw: tw}
}

func (w *tableWriter) write(rec decodeRecord, first time.Time) error {
	v, vrid, prio, interval, addrs := "-", "-", "-", "-", "-"
	if rec.Version != nil {
		v, vrid, prio = fmt.Sprint(*rec.Version), fmt.Sprint(*rec.VRID), fmt.Sprint(*rec.Priority)
		interval = rec.interval.String()
		addrs = shortList(rec.Addresses, 3)
	}
	sum := rec.ChecksumForm
	switch {
	case rec.Checksum == "bad":
		sum = "BAD"
	case sum == "":
		sum = "-"
	}
	status := "ok"
	if len(rec.Warnings) > 0 {
		status = "ok, warn: " + strings.Join(rec.Warnings, ",")
	}
	if rec.ErrorReason != "" {
		status = "error: " + rec.ErrorReason
	}
	_, err := fmt.Fprintf(w.tw, "%.6f\t%s → %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
		rec.at.Sub(first).Seconds(), rec.Src, rec.Dst, v, vrid, prio, interval, addrs, sum, status)
	return err
}

func (w *tableWriter) flush() error { return w.tw.Flush() }

// shortList joins up to n items and counts the rest, keeping rows readable
// for adverts with many addresses.
func shortList(s []string, n int) string {
	if len(s) == 0 {
		return "(none)"
	}
	if len(s) <= n {
		return strings.Join(s, ",")
	}
	return fmt.Sprintf("%s,… (+%d)", strings.Join(s[:n], ","), len(s)-n)
}
