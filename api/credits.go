package api

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/addressbook"
)

// putCredits stores the deposits the exchange has credited, sent as CSV
// (text/csv) or JSON ({"credits":[...]}), so that an appeal for a deposit
// already credited closes as already_credited and shows the credit. The
// whole request is refused if any credit is bad or clashes with a stored
// one; sending the same credits again stores nothing new.
func (s *server) putCredits(w http.ResponseWriter, r *http.Request, who Staff) {
	// Settlement reconciles the exchange's credits with the recoveries.
	if !who.may(recovery.RoleAdmin, recovery.RoleSettlement) {
		s.writeError(w, r, recovery.Errorf(recovery.EForbidden, "importing credited deposits needs the admin or settlement role"))
		return
	}
	ct, raw, ok := s.readImport(w, r)
	if !ok {
		return
	}
	credits, err := parseCredits(ct, raw)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(credits) == 0 {
		s.writeError(w, r, recovery.Errorf(recovery.EInvalid, "no credits to import"))
		return
	}
	for i, c := range credits {
		if _, ok := s.Registry.Get(strings.TrimSpace(c.Network)); !ok {
			s.writeError(w, r, recovery.FieldError("network", "credit %d: unknown network %q (tx %s)", i+1, c.Network, c.TxHash))
			return
		}
	}
	if err := s.AddressBook.RecordCredits(r.Context(), credits); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.Info("audit: credits import", "person", who.Person, "credits", len(credits))
	writeJSON(w, http.StatusOK, creditsStored{Stored: len(credits)})
}

// creditsImport is the JSON body of PUT /v1/credits.
type creditsImport struct {
	Credits []creditRow `json:"credits"`
}

// creditRow is one credit as JSON sends it: credited_at is text, so that
// it may be a date as in the CSV, and a bad one is named as such rather
// than as bad JSON.
type creditRow struct {
	Network    string `json:"network"`
	TxHash     string `json:"tx_hash"`
	Index      string `json:"index"`
	UserID     string `json:"user_id"`
	Amount     string `json:"amount"`
	CreditedAt string `json:"credited_at"`
}

// creditsStored answers PUT /v1/credits.
type creditsStored struct {
	Stored int `json:"stored"`
}

// parseCredits reads credits sent as CSV (text/csv) or JSON
// (application/json or no type).
func parseCredits(contentType string, raw []byte) ([]addressbook.Credit, error) {
	if contentType == "text/csv" {
		return addressbook.ReadCreditsCSV(bytes.NewReader(raw))
	}
	var req creditsImport
	if err := decodeStrictBytes(raw, &req); err != nil {
		return nil, err
	}
	out := make([]addressbook.Credit, 0, len(req.Credits))
	for i, row := range req.Credits {
		at, err := addressbook.ParseCreditTime(row.CreditedAt)
		if err != nil {
			return nil, recovery.FieldError("credited_at", "credit %d: %s", i+1, recovery.ErrorMessage(err))
		}
		out = append(out, addressbook.Credit{Network: row.Network, TxHash: row.TxHash, Index: row.Index,
			UserID: row.UserID, Amount: row.Amount, CreditedAt: at})
	}
	return out, nil
}
