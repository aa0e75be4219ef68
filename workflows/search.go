package workflows

import (
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
)

// SearchAttributes lists every custom search attribute the engine uses, for
// registration in a namespace.
func SearchAttributes() map[string]enumspb.IndexedValueType {
	return map[string]enumspb.IndexedValueType{
		statusKey.GetName():     enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		categoryKey.GetName():   enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		networkKey.GetName():    enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		amountBandKey.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	}
}

// InitialSearchAttributes are set when a case starts so that it shows in the
// queues before its first workflow task runs.
func InitialSearchAttributes(network string) temporal.SearchAttributes {
	updates := []temporal.SearchAttributeUpdate{
		statusKey.ValueSet(StatusReceived),
		categoryKey.ValueSet(CategoryUnclassified),
	}
	if network != "" {
		updates = append(updates, networkKey.ValueSet(network))
	}
	return temporal.NewSearchAttributes(updates...)
}
