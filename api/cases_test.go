package api

import (
	"errors"
	"net/url"
	"testing"

	"github.com/misdeposit/recovery"
)

// TestQueueFilterNamesTheFirstBadValue: with several bad values, a queue
// request is always refused naming the same one, in the documented order
// (status, network, category, amount_band, overdue, older_than).
func TestQueueFilterNamesTheFirstBadValue(t *testing.T) {
	for _, tc := range []struct {
		name  string
		query url.Values
		field string
	}{
		{"all four patterns bad", url.Values{"status": {"Parked"}, "network": {"eth' OR 1=1"}, "category": {"x y"}, "amount_band": {"BIG"}}, "status"},
		{"network before category", url.Values{"category": {"x y"}, "network": {"eth;"}}, "network"},
		{"category before amount_band", url.Values{"amount_band": {"BIG"}, "category": {"NOPE"}}, "category"},
		{"a pattern before a band nobody has", url.Values{"amount_band": {"huge"}, "network": {"ETH"}}, "network"},
		{"amount_band before overdue", url.Values{"overdue": {"yes"}, "amount_band": {"BIG"}}, "amount_band"},
		{"overdue before older_than", url.Values{"older_than": {"soon"}, "overdue": {"yes"}, "status": {"parked"}}, "overdue"},
	} {
		// A map's order changes from one range to the next; many runs
		// would show it.
		for range 50 {
			_, err := parseQueueFilter(tc.query)
			var e *recovery.Error
			if !errors.As(err, &e) || e.Field != tc.field || e.Code != recovery.EInvalid {
				t.Fatalf("%s: %v, want a refusal naming %s", tc.name, err, tc.field)
			}
		}
	}
}
