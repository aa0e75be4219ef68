package fees

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"gopkg.in/yaml.v3"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestScheduleValidateAcceptsGoodSchedules(t *testing.T) {
	for name, s := range map[string]Schedule{
		"flat":       {Flat: d("5"), NetworkCost: ChargeNetworkCost},
		"percent":    {Percent: d("2.5"), Minimum: d("10"), Cap: d("500"), FreeBelow: d("1"), MaxShare: d("0.5"), NetworkCost: AbsorbNetworkCost},
		"tiers":      {Tiers: []Tier{{UpTo: d("1000"), Percent: d("5")}, {UpTo: d("10000"), Percent: d("3")}, {Percent: d("1.5")}}, NetworkCost: ChargeNetworkCost},
		"free":       {NetworkCost: AbsorbNetworkCost},
		"min is cap": {Minimum: d("10"), Cap: d("10"), NetworkCost: ChargeNetworkCost},
		"max share":  {MaxShare: d("1"), SmallBelow: d("100"), NetworkCost: ChargeNetworkCost},
	} {
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestScheduleValidateNamesEveryBadField(t *testing.T) {
	for _, tc := range []struct {
		name   string
		s      Schedule
		fields []string
	}{
		{"negative money", Schedule{Flat: d("-1"), Minimum: d("-2"), Cap: d("-3"), FreeBelow: d("-4"), SmallBelow: d("-5"), NetworkCost: ChargeNetworkCost},
			[]string{"flat", "minimum", "cap", "free_below", "small_below"}},
		{"percent out of range", Schedule{Percent: d("100.5"), NetworkCost: ChargeNetworkCost}, []string{"percent"}},
		{"negative percent", Schedule{Percent: d("-0.1"), NetworkCost: ChargeNetworkCost}, []string{"percent"}},
		{"minimum above cap", Schedule{Minimum: d("20"), Cap: d("10"), NetworkCost: ChargeNetworkCost}, []string{"minimum"}},
		{"network cost missing", Schedule{}, []string{"network_cost"}},
		{"network cost unknown", Schedule{NetworkCost: "split"}, []string{"network_cost"}},
		{"max share above 1", Schedule{MaxShare: d("1.5"), NetworkCost: ChargeNetworkCost}, []string{"max_share"}},
		{"too many places", Schedule{Flat: d("0.000000001"), Percent: d("1.0000001"), NetworkCost: ChargeNetworkCost}, []string{"flat", "percent"}},
		{"absurd amount", Schedule{Cap: d("1e13"), NetworkCost: ChargeNetworkCost}, []string{"cap"}},
		{"tiers and percent", Schedule{Percent: d("1"), Tiers: []Tier{{Percent: d("1")}}, NetworkCost: ChargeNetworkCost}, []string{"percent"}},
		{"tiers out of order", Schedule{Tiers: []Tier{{UpTo: d("100"), Percent: d("5")}, {UpTo: d("50"), Percent: d("3")}, {Percent: d("1")}}, NetworkCost: ChargeNetworkCost},
			[]string{"tiers[1].up_to"}},
		{"middle tier open", Schedule{Tiers: []Tier{{Percent: d("5")}, {Percent: d("3")}}, NetworkCost: ChargeNetworkCost}, []string{"tiers[0].up_to"}},
		{"last tier bounded", Schedule{Tiers: []Tier{{UpTo: d("100"), Percent: d("5")}}, NetworkCost: ChargeNetworkCost}, []string{"tiers[0].up_to"}},
		{"tier percent", Schedule{Tiers: []Tier{{UpTo: d("100"), Percent: d("101")}, {Percent: d("-1")}}, NetworkCost: ChargeNetworkCost},
			[]string{"tiers[0].percent", "tiers[1].percent"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, e := range FieldErrors(tc.s.Validate()) {
				if e.Code != "invalid" || e.Message == "" {
					t.Errorf("error %+v: want code invalid and a message", e)
				}
				got = append(got, e.Field)
			}
			if !slices.Equal(got, tc.fields) {
				t.Errorf("fields with problems = %q, want %q", got, tc.fields)
			}
		})
	}
}

func TestScheduleReadsYAMLAndJSONExactly(t *testing.T) {
	// Numbers written without quotes must reach the schedule digit for
	// digit: 0.1 is not a binary fraction.
	const y = `
flat: 0.1
percent: 2.5
minimum: "10"
cap: 1000
tiers: []
network_cost: charge
max_share: 0.5
`
	var s Schedule
	dec := yaml.NewDecoder(strings.NewReader(y))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		t.Fatal(err)
	}
	if !s.Flat.Equal(d("0.1")) || s.Flat.String() != "0.1" || !s.Percent.Equal(d("2.5")) || !s.Cap.Equal(d("1000")) || !s.MaxShare.Equal(d("0.5")) {
		t.Errorf("decoded %+v", s)
	}

	var j Schedule
	jd := json.NewDecoder(strings.NewReader(`{"flat":0.1,"percent":"2.5","network_cost":"absorb","tiers":[{"up_to":100,"percent":1},{"percent":0.5}]}`))
	jd.DisallowUnknownFields()
	if err := jd.Decode(&j); err != nil {
		t.Fatal(err)
	}
	if j.Flat.String() != "0.1" || len(j.Tiers) != 2 || !j.Tiers[1].Percent.Equal(d("0.5")) || j.NetworkCost != AbsorbNetworkCost {
		t.Errorf("decoded %+v", j)
	}

	// Round trip: money is written as strings, unset fields are left out.
	out, err := json.Marshal(Schedule{Percent: d("2.5"), NetworkCost: ChargeNetworkCost})
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"percent":"2.5","network_cost":"charge"}` {
		t.Errorf("json = %s", out)
	}
	var back bytes.Buffer
	if err := yaml.NewEncoder(&back).Encode(Schedule{Percent: d("2.5"), NetworkCost: ChargeNetworkCost}); err != nil {
		t.Fatal(err)
	}
	if got := back.String(); got != "percent: \"2.5\"\nnetwork_cost: charge\n" {
		t.Errorf("yaml = %q", got)
	}
}

func TestScheduleRefusesUnknownKeys(t *testing.T) {
	var s Schedule
	dec := yaml.NewDecoder(strings.NewReader("percnt: 2\nnetwork_cost: charge\n"))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err == nil || !strings.Contains(err.Error(), "percnt") {
		t.Errorf("unknown key: err = %v", err)
	}
}
