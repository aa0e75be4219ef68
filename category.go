package recovery

import "slices"

// Categories of DESIGN §2: what happened to a deposit.
const (
	CategoryNotFound           = "not_found"
	CategoryPending            = "pending"
	CategoryFailedTx           = "failed_tx"
	CategoryNotOurAddress      = "not_our_address"
	CategoryAlreadyCredited    = "already_credited"
	CategoryBelowMinimum       = "below_minimum"
	CategoryMissingOrWrongMemo = "missing_or_wrong_memo"
	CategoryUnlistedToken      = "unlisted_token"
	CategoryWrongNetworkEVM    = "wrong_network_evm"
	CategoryCrossChainUTXO     = "cross_chain_utxo"
	CategoryRetiredAddress     = "retired_address"
	CategoryContractDeposit    = "contract_deposit"
	CategoryUnsupportedNetwork = "unsupported_network"
)

// CategoryUnclassified is a case's category before its deposit is found
// and final; it is not one of Categories.
const CategoryUnclassified = "unclassified"

// Categories lists the 13 categories in the order of DESIGN §2.
func Categories() []string {
	return []string{
		CategoryNotFound, CategoryPending, CategoryFailedTx, CategoryNotOurAddress, CategoryAlreadyCredited,
		CategoryBelowMinimum, CategoryMissingOrWrongMemo, CategoryUnlistedToken, CategoryWrongNetworkEVM,
		CategoryCrossChainUTXO, CategoryRetiredAddress, CategoryContractDeposit, CategoryUnsupportedNetwork,
	}
}

// IsCategory reports whether c is one of Categories.
func IsCategory(c string) bool { return slices.Contains(Categories(), c) }
