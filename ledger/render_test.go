package ledger

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// sampleReport has values that round both ways and a group name that
// needs escaping in HTML (no real group does; the renderer must not rely
// on it).
func sampleReport() *Report {
	return &Report{
		From: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		GroupBy: GroupByNetwork,
		Rows: []ReportRow{{
			Group: "bsc", Cases: 3, Refunds: 1,
			RecoveredUSD: price("1250.125"), FeesChargedUSD: price("30.004999"), FeesRefundedUSD: price("5.30053"),
			NetworkCostUSD: price("0.9"), NetUSD: price("23.804469"), CreditedUSD: price("1225.42053"),
			MedianTimeToRecovery: 52*time.Hour + 1500*time.Millisecond,
		}, {
			Group: `<b>"x" & y</b>`, Cases: 1,
			RecoveredUSD: price("1234567.891"), FeesChargedUSD: price("12345.675"), NetworkCostUSD: price("3.2"),
			NetUSD: price("12342.475"), CreditedUSD: price("1222222.216"),
			MedianTimeToRecovery: 90 * time.Minute,
		}},
		Total: ReportRow{
			Group: TotalGroup, Cases: 4, Refunds: 1,
			RecoveredUSD: price("1235818.016"), FeesChargedUSD: price("12375.679999"), FeesRefundedUSD: price("5.30053"),
			NetworkCostUSD: price("4.1"), NetUSD: price("12366.279469"), CreditedUSD: price("1223447.63653"),
			MedianTimeToRecovery: 40 * time.Hour,
		},
	}
}

func TestCSVHasAHeaderAGroupPerRowAndTheTotal(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport().WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"network", "cases", "refunds", "recovered_usd", "fees_charged_usd", "fees_refunded_usd", "network_cost_usd", "net_usd", "credited_usd", "median_time_to_recovery_seconds"},
		{"bsc", "3", "1", "1250.13", "30.00", "5.30", "0.90", "23.80", "1225.42", "187202"},
		{`<b>"x" & y</b>`, "1", "0", "1234567.89", "12345.68", "0.00", "3.20", "12342.48", "1222222.22", "5400"},
		{"Total", "4", "1", "1235818.02", "12375.68", "5.30", "4.10", "12366.28", "1223447.64", "144000"},
	}
	if len(records) != len(want) {
		t.Fatalf("%d records: %q", len(records), records)
	}
	for i := range want {
		if strings.Join(records[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("record %d: %q, want %q", i, records[i], want[i])
		}
	}

	// An empty period still has its header and a total of zeros.
	empty := &Report{GroupBy: GroupByMonth, Total: ReportRow{Group: TotalGroup}}
	b.Reset()
	if err := empty.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	if records, _ := csv.NewReader(&b).ReadAll(); len(records) != 2 || records[0][0] != "month" || records[1][0] != "Total" || records[1][3] != "0.00" {
		t.Fatalf("empty report: %q", records)
	}
}

func TestJSONRoundTripsTheRenderedReport(t *testing.T) {
	r := sampleReport()
	var b bytes.Buffer
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	// Money is in strings, never JSON numbers a client might read as
	// floats.
	var raw struct {
		GroupBy string           `json:"group_by"`
		Rows    []map[string]any `json:"rows"`
	}
	if err := json.Unmarshal(b.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	if raw.GroupBy != "network" || raw.Rows[0]["fees_charged_usd"] != "30.00" || raw.Rows[0]["median_time_to_recovery_seconds"] != 187202.0 {
		t.Fatalf("JSON: %s", b.String())
	}

	var back Report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	want := r.Rounded()
	if !back.From.Equal(want.From) || !back.To.Equal(want.To) || back.GroupBy != want.GroupBy || len(back.Rows) != len(want.Rows) {
		t.Fatalf("read back %+v, want %+v", back, want)
	}
	for i, row := range append(back.Rows, back.Total) {
		w := append(want.Rows, want.Total)[i]
		if row.Group != w.Group || row.Cases != w.Cases || row.Refunds != w.Refunds || row.MedianTimeToRecovery != w.MedianTimeToRecovery {
			t.Errorf("row %d: %+v, want %+v", i, row, w)
		}
		for j, d := range row.amounts() {
			if !d.Equal(*w.amounts()[j]) {
				t.Errorf("row %d %s: %s, want %s", i, columns[2+j], d, w.amounts()[j])
			}
		}
	}

	b.Reset()
	if err := (&Report{GroupBy: GroupByMonth}).WriteJSON(&b); err != nil || !strings.Contains(b.String(), `"rows": []`) {
		t.Fatalf("empty report: %v %s", err, b.String())
	}
}

func TestHTMLIsSelfContainedAndAccessible(t *testing.T) {
	r := sampleReport()
	var b bytes.Buffer
	if err := r.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, ref := range []string{"http://", "https://", "<script", "<link", "<img", "@import", "//"} {
		if strings.Contains(page, ref) {
			t.Errorf("the page refers to something outside itself: %q", ref)
		}
	}
	checkWellFormed(t, page)

	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	root := find(doc, atom.Html)
	if attr(root, "lang") != "en" {
		t.Error("no lang on <html>")
	}
	if title := text(find(doc, atom.Title)); !strings.Contains(title, "Fee report by network, 2026-11-01 to 2026-12-01") {
		t.Errorf("title %q", title)
	}

	svg := find(doc, atom.Svg)
	if svg == nil || attr(svg, "role") != "img" {
		t.Fatal("no chart with role img")
	}
	// The chart's accessible name and description name every group and
	// both of its numbers.
	for _, id := range strings.Fields(attr(svg, "aria-labelledby")) {
		if byID(doc, id) == nil || strings.TrimSpace(text(byID(doc, id))) == "" {
			t.Errorf("aria-labelledby names %q, which is missing or empty", id)
		}
	}
	desc := text(byID(doc, "chart-desc"))
	for _, s := range []string{"bsc: fees charged $30.00, network cost paid $0.90.", `<b>"x" & y</b>: fees charged $12,345.68, network cost paid $3.20.`} {
		if !strings.Contains(desc, s) {
			t.Errorf("chart description %q lacks %q", desc, s)
		}
	}
	var bars int
	walk(svg, func(n *html.Node) {
		if n.Data == "rect" && attr(n, "height") == "14" && attr(n, "y") != "8" {
			bars++
		}
	})
	if bars != 4 {
		t.Errorf("%d bars, want two per group", bars)
	}

	table := find(doc, atom.Table)
	if table == nil || find(table, atom.Caption) == nil {
		t.Fatal("no table with a caption")
	}
	var rows [][]string
	walk(table, func(n *html.Node) {
		if n.DataAtom == atom.Tr {
			var cells []string
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.ElementNode {
					cells = append(cells, text(c))
				}
			}
			rows = append(rows, cells)
		}
	})
	want := [][]string{
		{"Network", "Credited cases", "Refunds", "Recovered", "Fees charged", "Fees refunded", "Network cost paid", "Net fee income", "Credited to users", "Median time to recovery"},
		{"bsc", "3", "1", "$1,250.13", "$30.00", "$5.30", "$0.90", "$23.80", "$1,225.42", "2d 4h"},
		{`<b>"x" & y</b>`, "1", "0", "$1,234,567.89", "$12,345.68", "$0.00", "$3.20", "$12,342.48", "$1,222,222.22", "1h 30m"},
		{"Total", "4", "1", "$1,235,818.02", "$12,375.68", "$5.30", "$4.10", "$12,366.28", "$1,223,447.64", "1d 16h"},
	}
	if len(rows) != len(want) {
		t.Fatalf("table rows %q", rows)
	}
	for i := range want {
		if strings.Join(rows[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("table row %d: %q, want %q", i, rows[i], want[i])
		}
	}
	walk(table, func(n *html.Node) {
		if n.DataAtom == atom.Th && attr(n, "scope") == "" {
			t.Errorf("header cell %q without a scope", text(n))
		}
	})

	// A period without entries says so instead of drawing an empty chart.
	b.Reset()
	empty := &Report{From: r.From, To: r.To, GroupBy: GroupByCategory, Total: ReportRow{Group: TotalGroup}}
	if err := empty.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "<svg") || !strings.Contains(b.String(), "No recoveries or refunds") {
		t.Fatalf("empty report:\n%s", b.String())
	}
	checkWellFormed(t, b.String())
}

// checkWellFormed fails unless every element the page opens is closed, in
// order, the void elements of HTML excepted.
func checkWellFormed(t *testing.T, page string) {
	t.Helper()
	void := map[string]bool{"meta": true, "br": true, "hr": true, "img": true, "input": true, "link": true}
	z := html.NewTokenizer(strings.NewReader(page))
	var open []string
	for {
		switch z.Next() {
		case html.ErrorToken:
			if z.Err() != io.EOF {
				t.Fatal(z.Err())
			}
			if len(open) != 0 {
				t.Fatalf("elements left open: %q", open)
			}
			return
		case html.StartTagToken:
			name, _ := z.TagName()
			if !void[string(name)] {
				open = append(open, string(name))
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if len(open) == 0 || open[len(open)-1] != string(name) {
				t.Fatalf("</%s> closes %q", name, open)
			}
			open = open[:len(open)-1]
		}
	}
}

func walk(n *html.Node, visit func(*html.Node)) {
	if n == nil {
		return
	}
	visit(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, visit)
	}
}

func find(n *html.Node, a atom.Atom) *html.Node {
	var found *html.Node
	walk(n, func(n *html.Node) {
		if found == nil && n.Type == html.ElementNode && (n.DataAtom == a || n.Data == a.String()) {
			found = n
		}
	})
	return found
}

func byID(n *html.Node, id string) *html.Node {
	var found *html.Node
	walk(n, func(n *html.Node) {
		if found == nil && n.Type == html.ElementNode && attr(n, "id") == id {
			found = n
		}
	})
	return found
}

func attr(n *html.Node, key string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	var b strings.Builder
	walk(n, func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
	})
	return b.String()
}
