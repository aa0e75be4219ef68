package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum/common"
	"github.com/shopspring/decimal"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/chains/xrp"
)

// appealRequest is the body of POST /v1/appeals.
type appealRequest struct {
	Network   string `json:"network"`
	TxHash    string `json:"tx_hash"`
	Asset     string `json:"asset"`
	Amount    string `json:"amount"`
	ToAddress string `json:"to_address"`
	Memo      string `json:"memo"`
	UserID    string `json:"user_id"`
	Contact   string `json:"contact"`
	Lang      string `json:"lang"`
	Urgent    bool   `json:"urgent"`
}

// appeal is a validated appealRequest.
type appeal struct {
	appealRequest
	hash    string // 64 lower-case hex digits
	network *chains.Network
}

var (
	userIDPattern  = regexp.MustCompile(`^[A-Za-z0-9._@:-]{1,128}$`)
	assetPattern   = regexp.MustCompile(`^[A-Za-z0-9.-]{1,20}$`)
	addressPattern = regexp.MustCompile(`^[A-Za-z0-9:]{14,128}$`)
)

// languages are those the catalogue has a file for, sorted: the timeline,
// the form and the errors are written in them.
var languages = func() []string {
	out := make([]string, 0, len(catalog))
	for lang := range catalog {
		out = append(out, lang)
	}
	slices.Sort(out)
	return out
}()

const maxBody = 64 << 10

// decodeAppeal reads and validates an appeal. Every field a user can send is
// checked; an unknown field is refused rather than dropped.
func decodeAppeal(body io.Reader, reg *chains.Registry) (*appeal, error) {
	var req appealRequest
	if err := decodeStrict(body, &req); err != nil {
		return nil, err
	}
	return validateAppeal(req, reg)
}

// decodeStrict reads one JSON object of at most maxBody bytes into v,
// refusing unknown fields.
func decodeStrict(body io.Reader, v any) error {
	raw, err := readBody(body)
	if err != nil {
		return err
	}
	return decodeStrictBytes(raw, v)
}

// readBody reads at most maxBody bytes of a request body.
func readBody(body io.Reader) ([]byte, error) {
	raw, err := io.ReadAll(io.LimitReader(body, maxBody+1))
	if err != nil {
		return nil, recovery.Errorf(recovery.EInvalid, "could not read the request body")
	}
	if len(raw) > maxBody {
		return nil, recovery.Errorf(recovery.ETooLarge, "the request body is larger than %d bytes", maxBody)
	}
	return raw, nil
}

// notAnObject is the refusal of a body whose JSON value is not an object.
const notAnObject = "the request body must be a JSON object"

// decodeStrictBytes decodes one JSON object, refusing unknown fields, any
// other JSON value (null would decode into an empty request) and text that
// is not UTF-8 (encoding/json would replace it unseen).
func decodeStrictBytes(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	// Only null decodes into a struct without an error.
	if body := bytes.TrimLeft(raw, " \t\r\n"); len(body) == 0 || body[0] != '{' {
		return recovery.Errorf(recovery.EInvalid, notAnObject)
	}
	// dec.More reports false for a stray '}' or ']', so look at what is left.
	if len(bytes.TrimSpace(raw[dec.InputOffset():])) > 0 {
		return recovery.Errorf(recovery.EInvalid, "the body must hold one JSON object and nothing after it")
	}
	if !utf8.Valid(raw) {
		if field := notUTF8Field(raw, v); field != "" {
			return recovery.FieldError(field, "%s is not valid UTF-8", field)
		}
		return recovery.Errorf(recovery.EInvalid, "the request body is not valid UTF-8")
	}
	return nil
}

// notUTF8Field names the first field of the JSON object raw, decoded into
// v, whose value is not valid UTF-8; "" when none can be named.
func notUTF8Field(raw []byte, v any) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return ""
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return ""
		}
		var value json.RawMessage // the bytes as sent
		if err := dec.Decode(&value); err != nil {
			return ""
		}
		if name, _ := key.(string); !utf8.Valid(value) {
			return jsonName(v, name)
		}
	}
	return ""
}

// jsonName is the name of the field of the struct v that encoding/json
// fills from key, which it matches ignoring case; key when v has none.
func jsonName(v any, key string) string {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return key
	}
	folded := key
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		switch {
		case name == key:
			return name
		case strings.EqualFold(name, key) && folded == key:
			folded = name
		}
	}
	return folded
}

func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return recovery.Errorf(recovery.EInvalid, notAnObject)
	case errors.As(err, &typeErr):
		return recovery.FieldError(typeErr.Field, "%s must be a JSON %s", typeErr.Field, jsonKind(typeErr.Field))
	case errors.As(err, &syntaxErr):
		return recovery.Errorf(recovery.EInvalid, "the body is not valid JSON (at byte %d)", syntaxErr.Offset)
	// encoding/json has no error type for an unknown field: its text is
	// all there is to go by.
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return recovery.FieldError(field, "unknown field %q", field)
	case errors.Is(err, io.EOF):
		return recovery.Errorf(recovery.EInvalid, "the body is empty; send a JSON object")
	default:
		return recovery.Errorf(recovery.EInvalid, "the body is not valid JSON")
	}
}

func jsonKind(field string) string {
	if field == "urgent" || field == "accept" || field == "approve" {
		return "boolean"
	}
	return "string"
}

func validateAppeal(req appealRequest, reg *chains.Registry) (*appeal, error) {
	a := &appeal{appealRequest: req}
	a.Network = strings.TrimSpace(strings.ToLower(req.Network))
	if a.Network != "" {
		n, err := reg.Lookup(a.Network)
		if err != nil {
			return nil, err
		}
		a.network = &n
	}
	h, err := chains.ParseTxHash(req.TxHash)
	if err != nil {
		return nil, err
	}
	a.hash = h

	a.ToAddress = strings.TrimSpace(req.ToAddress)
	if err := validateAddress(a.ToAddress, a.network); err != nil {
		return nil, err
	}
	if err := a.readXAddress(); err != nil {
		return nil, err
	}
	if a.UserID = strings.TrimSpace(req.UserID); !userIDPattern.MatchString(a.UserID) {
		return nil, recovery.FieldError("user_id", "user_id is required: 1 to 128 letters, digits or . _ @ : -")
	}
	if a.Asset = strings.ToUpper(strings.TrimSpace(req.Asset)); a.Asset != "" && !assetPattern.MatchString(a.Asset) {
		return nil, recovery.FieldError("asset", "asset is a ticker of up to 20 letters, digits, dots or dashes")
	}
	if a.Amount = strings.TrimSpace(req.Amount); a.Amount != "" {
		if err := validateAmount(a.Amount); err != nil {
			return nil, err
		}
	}
	if err := validateText("memo", req.Memo, 128); err != nil {
		return nil, err
	}
	if err := validateText("contact", req.Contact, 256); err != nil {
		return nil, err
	}
	a.Lang = strings.ToLower(strings.TrimSpace(req.Lang))
	if a.Lang != "" && !slices.Contains(languages, a.Lang) {
		return nil, recovery.FieldError("lang", "lang must be one of %s", strings.Join(languages, ", "))
	}
	return a, nil
}

// readXAddress reads an X-address the user copied from a wallet as the
// classic address and the destination tag it packs (the tag is the memo),
// on an XRP Ledger network or when the user names no network: the ledger
// knows only classic addresses.
func (a *appeal) readXAddress() error {
	if a.network != nil && a.network.Params != xrp.Params {
		return nil
	}
	x, err := xrp.DecodeXAddress(a.ToAddress)
	if err != nil {
		return nil
	}
	a.ToAddress = x.Classic
	if !x.HasTag {
		return nil
	}
	tag := strconv.FormatUint(uint64(x.Tag), 10)
	switch strings.TrimSpace(a.Memo) {
	case "":
		a.Memo = tag
	case tag:
		a.Memo = tag
	default:
		return recovery.FieldError("memo", "memo is not the destination tag %s that the X-address in to_address carries: leave memo out, or give the classic address (r…) with its tag", tag)
	}
	return nil
}

// checkContact refuses a contact when no notification is ever sent to it.
func checkContact(contact string, notifications bool) error {
	if contact != "" && !notifications {
		return recovery.FieldError("contact", "this engine sends no notifications: leave contact out and follow the appeal at GET /v1/appeals/{id}")
	}
	return nil
}

var decimalPattern = regexp.MustCompile(`^[0-9]{1,40}(\.[0-9]{1,36})?$`)

func validateAmount(s string) error {
	if !decimalPattern.MatchString(s) {
		return recovery.FieldError("amount", "amount is a plain decimal number such as 12.5 (no sign, exponent or thousands separator)")
	}
	d, err := decimal.NewFromString(s)
	if err != nil || !d.IsPositive() {
		return recovery.FieldError("amount", "amount must be greater than zero")
	}
	return nil
}

func validateAddress(s string, n *chains.Network) error {
	if s == "" {
		return recovery.FieldError("to_address", "to_address is required: the deposit address the funds were sent to")
	}
	if n != nil && n.Family == recovery.FamilyEVM {
		if !common.IsHexAddress(s) || !strings.HasPrefix(strings.ToLower(s), "0x") {
			return recovery.FieldError("to_address", "to_address is not an address on %s: expected 0x and 40 hexadecimal digits", n.Name)
		}
		return nil
	}
	if !addressPattern.MatchString(s) {
		return recovery.FieldError("to_address", "to_address must be 14 to 128 letters or digits")
	}
	return nil
}

// Limits of the text people type, in characters (runes): a note may run
// over several lines; a name or a label is one line.
const (
	maxNote  = 2000
	maxLabel = 128
)

// validateText checks one line of text a person typed: UTF-8, at most max
// characters, no control character.
func validateText(field, s string, max int) error {
	return checkText(field, s, max, false)
}

// validateNote checks a note a person typed: as validateText, with line
// breaks (\n or \r\n) and tabs allowed, and at most maxNote characters.
func validateNote(field, s string) error {
	return checkText(field, s, maxNote, true)
}

func checkText(field, s string, max int, lines bool) error {
	if !utf8.ValidString(s) {
		return recovery.FieldError(field, "%s is not valid UTF-8", field)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return recovery.FieldError(field, "%s is longer than %d characters (it has %d)", field, max, n)
	}
	pos := 0
	for i, r := range s {
		pos++
		if !unicode.IsControl(r) {
			continue
		}
		if lines && (r == '\n' || r == '\t' || r == '\r' && strings.HasPrefix(s[i+1:], "\n")) {
			continue
		}
		if lines {
			return recovery.FieldError(field, "%s contains a control character (%U at character %d); only line breaks and tabs are allowed", field, r, pos)
		}
		return recovery.FieldError(field, "%s contains a control character (%U at character %d)", field, r, pos)
	}
	return nil
}

// fingerprint stands in for the output index while the deposit is not
// found on chain, so that the same claim joins the same case.
func fingerprint(a *appeal) string {
	return fmt.Sprintf("to-%x", shortHash(strings.ToLower(a.ToAddress)+"|"+a.Memo))
}
