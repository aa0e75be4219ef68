package policy

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/chains"
)

// FuzzParse: no document makes Parse, Validate or Decide panic; every
// refusal is a *ValidationError whose problems have a path or a line.
func FuzzParse(f *testing.F) {
	f.Add(defaultDocument, false)
	f.Add([]byte(sampleYAML), false)
	f.Add([]byte(sampleJSON), true)
	if j, err := json.Marshal(Default()); err == nil {
		f.Add(j, true)
	}
	f.Add([]byte("a: &a [*a, *a]\n"), false)
	f.Add([]byte("defaults: {failed_tx: {fee: {percent: 1e-9999, tiers: [{up_to: 1e9999}]}}}"), false)
	f.Add([]byte(`{"networks":{"x":{"categories":{"y":{"conditions":{"max_age_days":99999999999999999999}}}}}}`), true)
	f.Add([]byte("version: 1\n---\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, asJSON bool) {
		format := FormatYAML
		if asJSON {
			format = FormatJSON
		}
		p, err := Parse(data, format)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 || recovery.ErrorCode(err) != recovery.EInvalid {
				t.Fatalf("error %v (%T) is not a ValidationError with problems", err, err)
			}
			for _, pr := range ve.Problems {
				if pr.Message == "" {
					t.Fatalf("problem without a message: %+v", pr)
				}
			}
			return
		}
		err = p.Validate(chains.DefaultNetworks())
		var ve *ValidationError
		if err != nil && !errors.As(err, &ve) {
			t.Fatalf("Validate: %v (%T)", err, err)
		}
		if ve != nil {
			for _, pr := range ve.Problems {
				if pr.Path == "" || pr.Message == "" {
					t.Fatalf("validation problem without a path: %+v", pr)
				}
			}
		}
		for _, n := range []string{"eth", "etc", "nowhere"} {
			for _, c := range append(recovery.Categories(), "unclassified") {
				d := p.Decide(n, c, DecideInput{Priced: true})
				if !d.Action.valid() {
					t.Fatalf("%s/%s: action %q", n, c, d.Action)
				}
				if err == nil && d.SLA <= 0 {
					t.Fatalf("valid policy, %s/%s without an SLA: %+v", n, c, d)
				}
			}
		}
		_ = p.NewlySupported(Default())
	})
}
