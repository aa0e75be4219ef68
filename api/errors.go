package api

import (
	"encoding/json"
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
// are logged in full and answered with a generic message.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := recovery.ErrorCode(err)
	d := errorDetail{Code: code, Message: recovery.ErrorMessage(err)}
	if e, ok := err.(*recovery.Error); ok {
		d.Field = e.Field
	}
	if code == recovery.EInternal || code == recovery.EUnavailable {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "code", code, "err", err)
	}
	writeJSON(w, ErrorStatus(code), errorBody{Error: d})
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
