package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/misdeposit/recovery"
)

// errorStatus maps each domain error code to one HTTP status.
var errorStatus = map[string]int{
	recovery.EInvalid:      http.StatusBadRequest,
	recovery.ENotFound:     http.StatusNotFound,
	recovery.EConflict:     http.StatusConflict,
	recovery.EUnauthorized: http.StatusUnauthorized,
	recovery.EForbidden:    http.StatusForbidden,
	recovery.ETooLarge:     http.StatusRequestEntityTooLarge,
	recovery.ERateLimited:  http.StatusTooManyRequests,
	recovery.EUnavailable:  http.StatusServiceUnavailable,
	recovery.EInternal:     http.StatusInternalServerError,
}

// ErrorStatus returns the HTTP status for an error's code.
func ErrorStatus(code string) int {
	if s, ok := errorStatus[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// writeError answers with {"error":{code,message,field}}. Internal failures
// are logged in full and answered with a generic message. A user asking in
// another language than English (?lang=, Accept-Language) gets the message
// of the catalogue for the code and field; English keeps the engine's own,
// more detailed message.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := recovery.ErrorCode(err)
	d := errorDetail{Code: code, Message: recovery.ErrorMessage(err)}
	var e *recovery.Error
	if errors.As(err, &e) {
		d.Field = e.Field
	}
	if lang := pickLang(r); lang != "en" {
		if text, ok := localError(lang, code, d.Field); ok {
			d.Message = text
		}
	}
	if code == recovery.EInternal || code == recovery.EUnavailable {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "code", code, "err", err)
	}
	writeJSON(w, ErrorStatus(code), errorBody{Error: d})
}

// localError is the catalogue's message for an error code and field, in
// lang; false when the catalogue has none.
func localError(lang, code, field string) (string, bool) {
	for _, key := range []string{"error." + code + "." + field, "error." + code} {
		if text, ok := catalog[lang][key]; ok {
			return text, true
		}
	}
	return "", false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		slog.Default().Debug("response write failed", "err", err)
	}
}
