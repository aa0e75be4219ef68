package api

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/addressbook"
)

// maxAddressBook bounds one import; larger books are sent in parts.
const maxAddressBook = 16 << 20

// putAddressBook stores address book entries sent as CSV (text/csv) or
// JSON ({"entries":[...]}). The whole request is refused if any entry is
// bad, with the line or entry named.
func (s *server) putAddressBook(w http.ResponseWriter, r *http.Request, who Staff) {
	if !who.may(recovery.RoleAdmin, recovery.RoleWallet) {
		s.writeError(w, r, recovery.Errorf(recovery.EForbidden, "importing the address book needs the admin or wallet role"))
		return
	}
	ct, raw, ok := s.readImport(w, r)
	if !ok {
		return
	}
	entries, err := parseAddressBook(ct, raw)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(entries) == 0 {
		s.writeError(w, r, recovery.Errorf(recovery.EInvalid, "no entries to import"))
		return
	}
	for i, e := range entries {
		if _, ok := s.Registry.Get(strings.TrimSpace(e.Network)); !ok {
			s.writeError(w, r, recovery.FieldError("network", "unknown network %q (address %s)", e.Network, e.Address))
			return
		}
		// The book measures a memo in bytes only; a memo is matched against
		// the appeal's, which is one line of text.
		if err := validateText("memo", strings.TrimSpace(e.Memo), maxLabel); err != nil {
			s.writeError(w, r, recovery.FieldError("memo", "entry %d: %s", i+1, recovery.ErrorMessage(err)))
			return
		}
	}
	if err := s.AddressBook.Upsert(r.Context(), entries, s.Now(), who.Person); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.Info("audit: address book import", "person", who.Person, "entries", len(entries))
	writeJSON(w, http.StatusOK, addressBookStored{Stored: len(entries)})
}

func (s *server) getAddressBook(w http.ResponseWriter, r *http.Request, _ Staff) {
	if s.AddressBook == nil {
		s.writeError(w, r, recovery.Errorf(recovery.EUnavailable, "no address book is configured"))
		return
	}
	address := r.URL.Query().Get("address")
	if address == "" {
		s.writeError(w, r, recovery.FieldError("address", "address is required"))
		return
	}
	entries, err := s.AddressBook.ByAddress(r.Context(), address)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if n := r.URL.Query().Get("network"); n != "" {
		entries = slices.DeleteFunc(entries, func(e addressbook.Entry) bool { return e.Network != n })
	}
	if entries == nil {
		entries = []addressbook.Entry{}
	}
	changes, err := s.AddressBook.Changes(r.Context(), address)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if n := r.URL.Query().Get("network"); n != "" {
		changes = slices.DeleteFunc(changes, func(c addressbook.Change) bool { return c.Network != n })
	}
	if changes == nil {
		changes = []addressbook.Change{}
	}
	writeJSON(w, http.StatusOK, addressBookLookup{Entries: entries, Changes: changes})
}

// addressBookLookup answers GET /v1/addressbook: who the address belongs
// to now, and who changed that, when (the book's audit trail).
type addressBookLookup struct {
	Entries []addressbook.Entry  `json:"entries"`
	Changes []addressbook.Change `json:"changes"`
}

// addressBookEntries is the JSON body of PUT /v1/addressbook and the
// answer of GET /v1/addressbook.
type addressBookEntries struct {
	Entries []addressbook.Entry `json:"entries"`
}

// addressBookStored answers PUT /v1/addressbook.
type addressBookStored struct {
	Stored int `json:"stored"`
}

// may reports whether the person holds one of roles; admin holds them all.
func (s Staff) may(roles ...string) bool {
	for _, r := range s.Roles {
		if r == recovery.RoleAdmin || slices.Contains(roles, r) {
			return true
		}
	}
	return false
}

// readImport reads the body of an import into the address book (its
// entries, or the credited deposits): CSV or JSON, at most maxAddressBook
// bytes, read whole before it is parsed, since the CSV reader keeps a read
// error only as text and the size limit is told by its type. ok is false
// when the request was answered with a refusal.
func (s *server) readImport(w http.ResponseWriter, r *http.Request) (contentType string, raw []byte, ok bool) {
	if s.AddressBook == nil {
		s.writeError(w, r, recovery.Errorf(recovery.EUnavailable, "no address book is configured"))
		return "", nil, false
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "text/csv" && ct != "application/json" && ct != "" {
		s.writeError(w, r, recovery.Errorf(recovery.EInvalid, "send text/csv or application/json, not %s", ct))
		return "", nil, false
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAddressBook))
	if err != nil {
		s.writeError(w, r, bodyError(err))
		return "", nil, false
	}
	return ct, raw, true
}

// parseAddressBook reads address book entries sent as CSV (text/csv) or
// JSON (application/json or no type).
func parseAddressBook(contentType string, raw []byte) ([]addressbook.Entry, error) {
	if contentType == "text/csv" {
		return addressbook.ReadCSV(bytes.NewReader(raw))
	}
	var req addressBookEntries
	if err := decodeStrictBytes(raw, &req); err != nil {
		return nil, err
	}
	return req.Entries, nil
}

// bodyError is the refusal of an import's body that could not be read:
// over the size limit, or cut off on the way.
func bodyError(err error) error {
	if errors.As(err, new(*http.MaxBytesError)) {
		return recovery.Errorf(recovery.ETooLarge, "the body is larger than %d bytes; send it in parts", maxAddressBook)
	}
	return recovery.Errorf(recovery.EInvalid, "the body could not be read in full")
}
