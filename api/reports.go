package api

import (
	"net/http"
	"time"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/ledger"
)

// maxReportPeriod bounds a report's period.
const maxReportPeriod = 5 * 366 * 24 * time.Hour

// feeReport serves GET /v1/reports/fees: fees charged and refunded,
// network costs, net, recovered value, counts and the median time to
// recovery, grouped by network, category or month, from the ledger; CSV
// and JSON for tools, HTML with charts for people. Roles finance or admin.
func (s *server) feeReport(w http.ResponseWriter, r *http.Request, who Staff) {
	if !who.may(recovery.RoleFinance) {
		s.writeError(w, r, recovery.Errorf(recovery.EForbidden, "fee reports need the finance or admin role"))
		return
	}
	if s.Ledger == nil {
		s.writeError(w, r, recovery.Errorf(recovery.EUnavailable, "no ledger is configured"))
		return
	}
	q := r.URL.Query()
	now := s.Now().UTC()
	from := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	to := now
	var err error
	if v := q.Get("from"); v != "" {
		if from, err = parseDay(v); err != nil {
			s.writeError(w, r, recovery.FieldError("from", "from is a date (2026-11-01) or a time (RFC 3339)"))
			return
		}
	}
	if v := q.Get("to"); v != "" {
		if to, err = parseDay(v); err != nil {
			s.writeError(w, r, recovery.FieldError("to", "to is a date (2026-12-01) or a time (RFC 3339); the period ends before it"))
			return
		}
	}
	if !from.Before(to) || to.Sub(from) > maxReportPeriod {
		s.writeError(w, r, recovery.FieldError("to", "the period must start before it ends and last at most five years"))
		return
	}
	by := ledger.GroupByNetwork
	if v := q.Get("group_by"); v != "" {
		if by, err = ledger.ParseGroupBy(v); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	format := q.Get("format")
	switch format {
	case "", "json", "csv", "html":
	default:
		s.writeError(w, r, recovery.FieldError("format", "format is json, csv or html"))
		return
	}
	rep, err := s.Ledger.FeeReport(r.Context(), from, to, by)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.Info("audit", "person", who.Person, "action", "fee report", "from", from, "to", to, "group_by", by)
	h := w.Header()
	switch format {
	case "csv":
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="fees-`+from.Format("2006-01-02")+`-`+to.Format("2006-01-02")+`.csv"`)
		err = rep.WriteCSV(w)
	case "html":
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
		err = rep.WriteHTML(w)
	default:
		h.Set("Content-Type", "application/json")
		err = rep.WriteJSON(w)
	}
	if err != nil {
		s.log.Warn("fee report write failed", "err", err)
	}
}

// parseDay reads a date (midnight UTC) or an RFC 3339 time.
func parseDay(v string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	return t.UTC(), err
}
