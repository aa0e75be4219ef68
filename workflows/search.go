package workflows

import (
	"github.com/misdeposit/recovery"
	"github.com/shopspring/decimal"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
)

// Typed search attributes that drive the case queues. They never carry
// personal data: no user id, address or contact.
var (
	statusKey     = temporal.NewSearchAttributeKeyKeyword("RecoveryStatus")
	categoryKey   = temporal.NewSearchAttributeKeyKeyword("RecoveryCategory")
	networkKey    = temporal.NewSearchAttributeKeyKeyword("RecoveryNetwork")
	amountBandKey = temporal.NewSearchAttributeKeyKeyword("RecoveryAmountBand")
	// dueKey is when the desk must have carried out the policy's decision
	// (decision time + the rule's SLA): a case past it is overdue.
	dueKey = temporal.NewSearchAttributeKeyTime("RecoveryDueAt")
)

// Amount bands of a deposit's USD value, for queues; no exact amount is
// indexed.
const (
	BandUnpriced = "unpriced"
	BandUnder10  = "under_10"
	Band10To100  = "10_100"
	Band100To1k  = "100_1k"
	Band1kTo10k  = "1k_10k"
	BandOver10k  = "over_10k"
)

// AmountBands lists the bands from the smallest.
func AmountBands() []string {
	return []string{BandUnpriced, BandUnder10, Band10To100, Band100To1k, Band1kTo10k, BandOver10k}
}

// amountBand is the band of a USD value written as decimal text ("" when
// unpriced).
func amountBand(usd string) string {
	v, err := decimal.NewFromString(usd)
	switch {
	case usd == "" || err != nil:
		return BandUnpriced
	case v.LessThan(decimal.NewFromInt(10)):
		return BandUnder10
	case v.LessThan(decimal.NewFromInt(100)):
		return Band10To100
	case v.LessThan(decimal.NewFromInt(1000)):
		return Band100To1k
	case v.LessThan(decimal.NewFromInt(10000)):
		return Band1kTo10k
	default:
		return BandOver10k
	}
}

// SearchAttributes lists every custom search attribute the engine uses, for
// registration in a namespace.
func SearchAttributes() map[string]enumspb.IndexedValueType {
	return map[string]enumspb.IndexedValueType{
		statusKey.GetName():     enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		categoryKey.GetName():   enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		networkKey.GetName():    enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		amountBandKey.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		dueKey.GetName():        enumspb.INDEXED_VALUE_TYPE_DATETIME,
	}
}

// InitialSearchAttributes are set when a case starts so that it shows in the
// queues before its first workflow task runs.
func InitialSearchAttributes(network string) temporal.SearchAttributes {
	updates := []temporal.SearchAttributeUpdate{
		statusKey.ValueSet(recovery.StatusReceived),
		categoryKey.ValueSet(recovery.CategoryUnclassified),
	}
	if network != "" {
		updates = append(updates, networkKey.ValueSet(network))
	}
	return temporal.NewSearchAttributes(updates...)
}
