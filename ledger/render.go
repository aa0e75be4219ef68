package ledger

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Rendered reports round USD values to the cent (half away from zero) and
// times to recovery to the second. Each is rounded from its exact value, so
// a total may differ by a cent from the sum of its rounded rows.
const (
	usdPlaces       = 2
	durationQuantum = time.Second
)

// Rounded returns the report as it is rendered: USD values rounded to the
// cent, times to recovery to the second.
func (r *Report) Rounded() *Report {
	out := *r
	out.Rows = make([]ReportRow, len(r.Rows))
	for i, row := range r.Rows {
		out.Rows[i] = row.rounded()
	}
	out.Total = r.Total.rounded()
	return &out
}

func (row ReportRow) rounded() ReportRow {
	for _, d := range row.amounts() {
		*d = d.Round(usdPlaces)
	}
	row.MedianTimeToRecovery = row.MedianTimeToRecovery.Round(durationQuantum)
	return row
}

// amounts are the row's USD values in column order.
func (row *ReportRow) amounts() []*decimal.Decimal {
	return []*decimal.Decimal{&row.RecoveredUSD, &row.FeesChargedUSD, &row.FeesRefundedUSD,
		&row.NetworkCostUSD, &row.NetUSD, &row.CreditedUSD}
}

// columns are the names of a row's fields in CSV and JSON, after the group.
var columns = []string{"cases", "refunds", "recovered_usd", "fees_charged_usd", "fees_refunded_usd",
	"network_cost_usd", "net_usd", "credited_usd", "median_time_to_recovery_seconds"}

// rowJSON is a row as JSON carries it: USD as strings with two decimals,
// so that no client parses money into a float.
type rowJSON struct {
	Group           string `json:"group"`
	Cases           int    `json:"cases"`
	Refunds         int    `json:"refunds"`
	RecoveredUSD    string `json:"recovered_usd"`
	FeesChargedUSD  string `json:"fees_charged_usd"`
	FeesRefundedUSD string `json:"fees_refunded_usd"`
	NetworkCostUSD  string `json:"network_cost_usd"`
	NetUSD          string `json:"net_usd"`
	CreditedUSD     string `json:"credited_usd"`
	MedianSeconds   int64  `json:"median_time_to_recovery_seconds"`
}

// MarshalJSON writes the row rounded, USD values as strings.
func (row ReportRow) MarshalJSON() ([]byte, error) {
	row = row.rounded()
	return json.Marshal(rowJSON{
		Group: row.Group, Cases: row.Cases, Refunds: row.Refunds,
		RecoveredUSD: usdText(row.RecoveredUSD), FeesChargedUSD: usdText(row.FeesChargedUSD),
		FeesRefundedUSD: usdText(row.FeesRefundedUSD), NetworkCostUSD: usdText(row.NetworkCostUSD),
		NetUSD: usdText(row.NetUSD), CreditedUSD: usdText(row.CreditedUSD),
		MedianSeconds: int64(row.MedianTimeToRecovery / time.Second),
	})
}

// UnmarshalJSON reads a row that MarshalJSON wrote.
func (row *ReportRow) UnmarshalJSON(b []byte) error {
	var j rowJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	out := ReportRow{Group: j.Group, Cases: j.Cases, Refunds: j.Refunds,
		MedianTimeToRecovery: time.Duration(j.MedianSeconds) * time.Second}
	for i, text := range []string{j.RecoveredUSD, j.FeesChargedUSD, j.FeesRefundedUSD, j.NetworkCostUSD, j.NetUSD, j.CreditedUSD} {
		d, err := decimal.NewFromString(text)
		if err != nil {
			return fmt.Errorf("%s: %w", columns[2+i], err)
		}
		*out.amounts()[i] = d
	}
	*row = out
	return nil
}

// reportJSON is a report as JSON carries it.
type reportJSON struct {
	From    time.Time   `json:"from"`
	To      time.Time   `json:"to"`
	GroupBy GroupBy     `json:"group_by"`
	Rows    []ReportRow `json:"rows"`
	Total   ReportRow   `json:"total"`
}

// MarshalJSON writes the report with its rows rounded; a report with no
// rows has an empty list of them.
func (r Report) MarshalJSON() ([]byte, error) {
	j := reportJSON(r)
	if j.Rows == nil {
		j.Rows = []ReportRow{}
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads a report that MarshalJSON wrote.
func (r *Report) UnmarshalJSON(b []byte) error {
	var j reportJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*r = Report(j)
	return nil
}

// WriteJSON writes the report as JSON, USD values as strings rounded to the
// cent.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func usdText(d decimal.Decimal) string { return d.StringFixed(usdPlaces) }

// WriteCSV writes a header row (the first column named after the grouping),
// one row per group and a total row whose group is TotalGroup. USD values
// have two decimals and no thousands separator, for spreadsheets.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write(append([]string{string(r.GroupBy)}, columns...))
	for _, row := range append(r.Rows[:len(r.Rows):len(r.Rows)], r.Total) {
		row = row.rounded()
		record := []string{row.Group, strconv.Itoa(row.Cases), strconv.Itoa(row.Refunds)}
		for _, d := range row.amounts() {
			record = append(record, usdText(*d))
		}
		record = append(record, strconv.FormatInt(int64(row.MedianTimeToRecovery/time.Second), 10))
		cw.Write(record)
	}
	cw.Flush()
	return cw.Error()
}

// Chart geometry, in SVG user units. The template draws the legend, the
// axis and the labels with the same numbers: an 800 wide chart, labels
// ending at 172, bars from 180.
const (
	chartPlotX   = 180
	chartPlotW   = 480
	chartTop     = 44
	chartPitch   = 40 // per group: two bars and a gap
	chartBarH    = 14
	chartBarGap  = 2
	chartBottom  = 12
	chartValueDX = 6
)

// chartBar is one group in the chart.
type chartBar struct {
	Group            string
	Y, CostY, LabelY int
	FeeW, CostW      string
	FeeX, CostX      string // where the value labels start
	Fee, Cost        string
}

type htmlReport struct {
	Title, By, From, To string
	Column              string // By, capitalised, heading the table's first column
	FromISO, ToISO      string
	Rows                []ReportRow
	Total               ReportRow
	Bars                []chartBar
	Height              int
	Desc                string
}

// WriteHTML writes a page for people: the totals, a bar chart of the fees
// charged against the network cost paid per group, and a table of every
// number. It is one self-contained document: no scripts, no external
// styles, fonts or images.
func (r *Report) WriteHTML(w io.Writer) error {
	rounded := r.Rounded()
	by := string(r.GroupBy)
	if by == "" {
		by = "group"
	}
	page := htmlReport{
		By:      by,
		Column:  strings.ToUpper(by[:1]) + by[1:],
		From:    r.From.UTC().Format("2006-01-02 15:04 UTC"),
		To:      r.To.UTC().Format("2006-01-02 15:04 UTC"),
		FromISO: r.From.UTC().Format(time.RFC3339),
		ToISO:   r.To.UTC().Format(time.RFC3339),
		Rows:    rounded.Rows,
		Total:   rounded.Total,
	}
	page.Title = fmt.Sprintf("Fee report by %s, %s to %s", by, r.From.UTC().Format("2006-01-02"), r.To.UTC().Format("2006-01-02"))

	// Bars are scaled to the largest value of either kind.
	peak := decimal.Zero
	for _, row := range rounded.Rows {
		peak = decimal.Max(peak, row.FeesChargedUSD, row.NetworkCostUSD)
	}
	width := func(d decimal.Decimal) decimal.Decimal {
		if peak.Sign() == 0 || d.Sign() <= 0 {
			return decimal.Zero
		}
		return d.Mul(decimal.NewFromInt(chartPlotW)).Div(peak).Round(1)
	}
	var desc []string
	for i, row := range rounded.Rows {
		y := chartTop + i*chartPitch
		fw, cw := width(row.FeesChargedUSD), width(row.NetworkCostUSD)
		x0 := decimal.NewFromInt(chartPlotX + chartValueDX)
		page.Bars = append(page.Bars, chartBar{
			Group: row.Group, Y: y, CostY: y + chartBarH + chartBarGap, LabelY: y + chartBarH + chartBarGap/2,
			FeeW: fw.String(), CostW: cw.String(),
			FeeX: x0.Add(fw).String(), CostX: x0.Add(cw).String(),
			Fee: money(row.FeesChargedUSD), Cost: money(row.NetworkCostUSD),
		})
		desc = append(desc, fmt.Sprintf("%s: fees charged %s, network cost paid %s.", row.Group, money(row.FeesChargedUSD), money(row.NetworkCostUSD)))
	}
	page.Height = chartTop + len(rounded.Rows)*chartPitch + chartBottom
	page.Desc = strings.Join(desc, " ")
	return pageTemplate.Execute(w, page)
}

// money formats a rounded USD value for people: "$1,234.50", "-$3.10".
func money(d decimal.Decimal) string {
	s := d.Abs().StringFixed(usdPlaces)
	whole, cents, _ := strings.Cut(s, ".")
	var b strings.Builder
	if d.Sign() < 0 {
		b.WriteString("-")
	}
	b.WriteString("$")
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String() + "." + cents
}

// humanDuration formats a time to recovery for people: "3d 4h", "5h 12m",
// "42m", "30s"; a dash when there was no credit to measure.
func humanDuration(d time.Duration, cases int) string {
	if cases == 0 {
		return "–"
	}
	d = d.Round(time.Second)
	days, hours, minutes := int64(d/(24*time.Hour)), int64(d/time.Hour)%24, int64(d/time.Minute)%60
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh", days, hours)
	case hours > 0:
		return fmt.Sprintf("%dh %dm", hours, minutes)
	case minutes > 0:
		return fmt.Sprintf("%dm", minutes)
	}
	return fmt.Sprintf("%ds", int64(d/time.Second))
}

var pageTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"money": money,
	"duration": func(row ReportRow) string {
		return humanDuration(row.MedianTimeToRecovery, row.Cases)
	},
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; color: #1a1a1a; background: #fff; margin: 0; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .25rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; }
dl { display: grid; grid-template-columns: max-content max-content; gap: .25rem 1.5rem; }
dt { color: #444; }
dd { margin: 0; font-variant-numeric: tabular-nums; text-align: right; }
figure { margin: 1rem 0; }
svg { max-width: 100%; height: auto; }
svg text { font: 12px system-ui, sans-serif; fill: #1a1a1a; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: .5rem 0; }
th, td { padding: .35rem .6rem; border-bottom: 1px solid #ccc; }
td, thead th { text-align: right; }
thead th:first-child, tbody th, tfoot th { text-align: left; }
tfoot th, tfoot td { font-weight: 700; border-top: 2px solid #1a1a1a; }
.table-wrap { overflow-x: auto; }
</style>
</head>
<body>
<main>
<h1>Recovery fee report</h1>
<p>By {{.By}}, from <time datetime="{{.FromISO}}">{{.From}}</time> up to, not including, <time datetime="{{.ToISO}}">{{.To}}</time>.
Amounts are US dollars at each quote's price, rounded to the cent; totals are rounded from exact sums, so they may differ by a cent from the sum of the rows.</p>

<h2>Totals</h2>
<dl>
<dt>Recoveries credited</dt><dd>{{.Total.Cases}}</dd>
<dt>Fee refunds</dt><dd>{{.Total.Refunds}}</dd>
<dt>Recovered</dt><dd>{{money .Total.RecoveredUSD}}</dd>
<dt>Fees charged</dt><dd>{{money .Total.FeesChargedUSD}}</dd>
<dt>Fees refunded</dt><dd>{{money .Total.FeesRefundedUSD}}</dd>
<dt>Network cost paid</dt><dd>{{money .Total.NetworkCostUSD}}</dd>
<dt>Net fee income</dt><dd>{{money .Total.NetUSD}}</dd>
<dt>Credited to users</dt><dd>{{money .Total.CreditedUSD}}</dd>
<dt>Median time to recovery</dt><dd>{{duration .Total}}</dd>
</dl>

<h2 id="chart-heading">Fees charged and network cost paid by {{.By}}</h2>
{{if .Bars -}}
<figure>
<svg role="img" aria-labelledby="chart-title chart-desc" viewBox="0 0 800 {{.Height}}" width="800" height="{{.Height}}">
<title id="chart-title">Fees charged and network cost paid by {{.By}}</title>
<desc id="chart-desc">{{.Desc}}</desc>
<defs>
<pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
<rect width="6" height="6" fill="#b3541e"></rect>
<rect width="2" height="6" fill="#f3d2bd"></rect>
</pattern>
</defs>
<rect x="180" y="8" width="14" height="14" fill="#1f4e79"></rect>
<text x="200" y="19">Fees charged</text>
<rect x="320" y="8" width="14" height="14" fill="url(#hatch)"></rect>
<text x="340" y="19">Network cost paid</text>
<line x1="180" y1="36" x2="180" y2="{{.Height}}" stroke="#767676"></line>
{{range .Bars -}}
<g>
<text x="172" y="{{.LabelY}}" text-anchor="end" dominant-baseline="middle">{{.Group}}</text>
<rect x="180" y="{{.Y}}" width="{{.FeeW}}" height="14" fill="#1f4e79"><title>{{.Group}}: fees charged {{.Fee}}</title></rect>
<text x="{{.FeeX}}" y="{{.Y}}" dy="11">{{.Fee}}</text>
<rect x="180" y="{{.CostY}}" width="{{.CostW}}" height="14" fill="url(#hatch)"><title>{{.Group}}: network cost paid {{.Cost}}</title></rect>
<text x="{{.CostX}}" y="{{.CostY}}" dy="11">{{.Cost}}</text>
</g>
{{end -}}
</svg>
<figcaption>Each {{.By}} has two bars: fees charged (solid blue) above network cost paid (hatched orange). The table below has the same numbers.</figcaption>
</figure>
{{- else -}}
<p>No recoveries or refunds were booked in this period.</p>
{{- end}}

<h2>By {{.By}}</h2>
<div class="table-wrap">
<table>
<caption>Fees, costs and credits by {{.By}}, US dollars</caption>
<thead>
<tr><th scope="col">{{.Column}}</th><th scope="col">Credited cases</th><th scope="col">Refunds</th><th scope="col">Recovered</th><th scope="col">Fees charged</th><th scope="col">Fees refunded</th><th scope="col">Network cost paid</th><th scope="col">Net fee income</th><th scope="col">Credited to users</th><th scope="col">Median time to recovery</th></tr>
</thead>
<tbody>
{{range .Rows -}}
<tr><th scope="row">{{.Group}}</th><td>{{.Cases}}</td><td>{{.Refunds}}</td><td>{{money .RecoveredUSD}}</td><td>{{money .FeesChargedUSD}}</td><td>{{money .FeesRefundedUSD}}</td><td>{{money .NetworkCostUSD}}</td><td>{{money .NetUSD}}</td><td>{{money .CreditedUSD}}</td><td>{{duration .}}</td></tr>
{{end -}}
</tbody>
<tfoot>
<tr><th scope="row">Total</th><td>{{.Total.Cases}}</td><td>{{.Total.Refunds}}</td><td>{{money .Total.RecoveredUSD}}</td><td>{{money .Total.FeesChargedUSD}}</td><td>{{money .Total.FeesRefundedUSD}}</td><td>{{money .Total.NetworkCostUSD}}</td><td>{{money .Total.NetUSD}}</td><td>{{money .Total.CreditedUSD}}</td><td>{{duration .Total}}</td></tr>
</tfoot>
</table>
</div>
</main>
</body>
</html>
`))
