// Package diagnosis decides what happened to a deposit: the category of
// DESIGN §2, from the chain's facts and the exchange's own records, never
// from the user's story alone. Classify is a pure function of Facts, so
// that a workflow can record its answer and a test can state every case;
// gathering the facts (address book, deposit records, token listings) is
// the job of an activity.
//
// A diagnosis carries two things for two audiences: the evidence that
// decided it, for staff, and a plain explanation (a message code with
// parameters, localised by the API), for the user.
package diagnosis

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/addressbook"
	"github.com/misdeposit/recovery/chains"
)

// CategoryRegularDeposit is a deposit with nothing wrong in it: the
// exchange's own address for the network it was made on, a listed asset,
// above the minimum, not yet credited. It is not a mis-deposit; the case
// goes to a specialist to find out why the normal crediting missed it.
const CategoryRegularDeposit = "regular_deposit"

// Match says how a transfer's recipient was tied to an address book entry.
type Match string

const (
	// MatchSameNetwork: the address was issued for the network the
	// transaction is on.
	MatchSameNetwork Match = "same_network"
	// MatchOtherEVMNetwork: the same EVM address was issued for another EVM
	// network (the key is the same on every EVM chain).
	MatchOtherEVMNetwork Match = "other_evm_network"
	// MatchPubKeyHash: a UTXO output pays the key hash of an address
	// issued on another UTXO chain.
	MatchPubKeyHash Match = "pubkey_hash"
)

// Owner is an address book entry a transfer pays, and how it matched.
type Owner struct {
	Entry addressbook.Entry `json:"entry"`
	Match Match             `json:"match"`
}

// TransferFacts is one transfer of the transaction with what the exchange
// knows of it.
type TransferFacts struct {
	Transfer recovery.Transfer `json:"transfer"`
	// Owners are the address book entries the recipient matches, on any
	// network; several on a memo network's shared address.
	Owners []Owner `json:"owners,omitempty"`
	// Listed is true for the native asset and for tokens the exchange
	// lists on the transaction's network.
	Listed bool `json:"listed"`
	// Asset names what moved: the native asset's symbol, a listed token's
	// symbol, or an unlisted token's contract.
	Asset string `json:"asset"`
	// Minimum is the smallest deposit of Asset the exchange credits, in
	// base units; nil when there is none.
	Minimum *big.Int `json:"minimum,omitempty"`
	// Credit is the exchange's record of having credited this transfer.
	Credit *addressbook.Credit `json:"credit,omitempty"`
}

// Facts are everything Classify looks at.
type Facts struct {
	// Found is false when no configured network knows the hash.
	Found bool `json:"found"`
	// Scanned lists the networks asked.
	Scanned []string `json:"scanned,omitempty"`
	// Tx and Network describe the transaction where it was found.
	Tx      *recovery.Tx   `json:"tx,omitempty"`
	Network chains.Network `json:"network"`
	// InPolicy is false when the policy does not cover Network at all.
	InPolicy bool `json:"in_policy"`
	// The user's claim: the address and memo they say they sent to.
	ClaimedNetwork string `json:"claimed_network,omitempty"`
	ClaimedAddress string `json:"claimed_address"`
	ClaimedMemo    string `json:"claimed_memo,omitempty"`
	UserID         string `json:"user_id"`
	// Transfers are the transaction's transfers with their facts, in the
	// order of Tx.Transfers.
	Transfers []TransferFacts `json:"transfers,omitempty"`
}

// Message is a text for the user: a catalogue code and its parameters.
type Message struct {
	Code   string            `json:"code"`
	Params map[string]string `json:"params,omitempty"`
}

// Evidence is one fact that decided a diagnosis, for staff.
type Evidence struct {
	Fact  string `json:"fact"`
	Value string `json:"value"`
}

// Diagnosis is what Classify decided.
type Diagnosis struct {
	Category string `json:"category"`
	// Deposit is the transfer the case is about, nil when no transfer
	// reached the exchange.
	Deposit *recovery.Transfer `json:"deposit,omitempty"`
	// Owner is the entry the deposit is credited to when recovered.
	Owner *Owner `json:"owner,omitempty"`
	// Asset names what the deposit moved (see TransferFacts.Asset).
	Asset string `json:"asset,omitempty"`
	// OwnerMismatch is true when the deposit's address belongs to another
	// user than the claimant: the claimant must prove they sent it.
	OwnerMismatch bool       `json:"owner_mismatch,omitempty"`
	Explanation   Message    `json:"explanation"`
	Evidence      []Evidence `json:"evidence"`
}

// Classify decides the category of a deposit. The checks run in a fixed
// order, so that one deposit has one category even when several apply
// (a token sent on the wrong network is wrong_network_evm, with the
// token's listing in the evidence):
//
//  1. not_found, pending, failed_tx: the chain alone decides.
//  2. unsupported_network: the policy does not cover the network.
//  3. not_our_address: no transfer reaches an address the exchange
//     issued, on any network.
//  4. already_credited: the deposit records show the credit.
//  5. How the address matched: retired_address, wrong_network_evm,
//     cross_chain_utxo, missing_or_wrong_memo.
//  6. What moved and how: unlisted_token, contract_deposit,
//     below_minimum.
//  7. Otherwise a regular deposit (CategoryRegularDeposit).
func Classify(f Facts) Diagnosis {
	d := Diagnosis{Evidence: []Evidence{}}
	if d.byChainAlone(f) {
		return d
	}
	d.noteWhereFound(f)
	if !f.InPolicy {
		d.unsupportedNetwork(f)
		return d
	}
	tf, owner := pick(f)
	if tf == nil {
		d.notOurAddress(f)
		return d
	}
	params := d.noteDeposit(f, tf, owner)
	if tf.Credit != nil {
		d.alreadyCredited(tf.Credit, params)
		return d
	}
	if !tf.Listed {
		d.add("token", fmt.Sprintf("contract %s is not listed on %s", tf.Transfer.Token, f.Network.ID))
	}
	if d.byAddressMatch(f, owner, params) {
		return d
	}
	d.byWhatMoved(tf, params)
	return d
}

// byChainAlone decides not_found, failed_tx and pending, where the chain's
// answer is all there is to say; false when the transaction is final.
func (d *Diagnosis) byChainAlone(f Facts) bool {
	switch {
	case !f.Found || f.Tx == nil:
		d.Category = recovery.CategoryNotFound
		d.add("scanned_networks", strings.Join(f.Scanned, ", "))
		d.explain("not_found", nil)
	case f.Tx.Status == recovery.TxFailed:
		d.Category = recovery.CategoryFailedTx
		d.add("receipt_status", "failed (reverted): nothing was transferred")
		d.explain("failed_tx", map[string]string{"network": f.Network.ID})
	case !f.Tx.Final():
		d.Category = recovery.CategoryPending
		d.add("confirmations", fmt.Sprintf("%d of %d", f.Tx.Confirmations, f.Tx.Required))
		d.explain("pending", map[string]string{"network": f.Network.ID, "confirmations": fmt.Sprint(f.Tx.Confirmations), "required": fmt.Sprint(f.Tx.Required)})
	default:
		return false
	}
	return true
}

// noteWhereFound records where the final transaction is, and the network
// the user named when it is another.
func (d *Diagnosis) noteWhereFound(f Facts) {
	d.add("found_on", fmt.Sprintf("%s, block %d, %d confirmations of %d", f.Network.ID, f.Tx.BlockNumber, f.Tx.Confirmations, f.Tx.Required))
	if f.ClaimedNetwork != "" && f.ClaimedNetwork != f.Network.ID {
		d.add("claimed_network", f.ClaimedNetwork)
	}
}

func (d *Diagnosis) unsupportedNetwork(f Facts) {
	d.Category = recovery.CategoryUnsupportedNetwork
	d.add("policy", "the policy does not cover "+f.Network.ID)
	d.explain("unsupported_network", map[string]string{"network": f.Network.ID})
}

func (d *Diagnosis) notOurAddress(f Facts) {
	d.Category = recovery.CategoryNotOurAddress
	d.add("transfers", describeTransfers(f.Transfers))
	d.add("address_book", "no recipient is an address the exchange issued")
	d.explain("not_our_address", map[string]string{"address": f.ClaimedAddress, "network": f.Network.ID})
}

// noteDeposit records the deposit the case is about and whose it is, and
// returns the parameters every explanation of a deposit carries.
func (d *Diagnosis) noteDeposit(f Facts, tf *TransferFacts, owner *Owner) (params map[string]string) {
	t := tf.Transfer
	d.Deposit, d.Owner, d.Asset = &t, owner, tf.Asset
	d.add("deposit", fmt.Sprintf("%s %s %s to %s (index %d)", t.Kind, t.Amount, tf.Asset, t.To, t.Index))
	d.add("owner", fmt.Sprintf("%s, %s address issued for %s, %s", owner.Entry.UserID, owner.Entry.Status, owner.Entry.Network, owner.Match))
	if f.UserID != "" && owner.Entry.UserID != f.UserID {
		d.OwnerMismatch = true
		d.add("claimant", fmt.Sprintf("%s is not the owner of the address; proof of sending is required", f.UserID))
	}
	return map[string]string{"network": f.Network.ID, "address": t.To, "amount": t.Amount.String(), "asset": tf.Asset}
}

func (d *Diagnosis) alreadyCredited(c *addressbook.Credit, params map[string]string) {
	d.Category = recovery.CategoryAlreadyCredited
	d.add("credit", fmt.Sprintf("credited to %s on %s (amount %s)", c.UserID, c.CreditedAt.UTC().Format("2006-01-02 15:04 UTC"), c.Amount))
	params["credited_at"] = c.CreditedAt.UTC().Format("2006-01-02")
	d.explain("already_credited", params)
}

// byAddressMatch decides the categories that come from how the address
// matched its owner: retired_address, wrong_network_evm, cross_chain_utxo
// and missing_or_wrong_memo. False when the address matched as it should.
func (d *Diagnosis) byAddressMatch(f Facts, owner *Owner, params map[string]string) bool {
	switch {
	case owner.Entry.Status == addressbook.Retired:
		d.Category = recovery.CategoryRetiredAddress
		d.explain("retired_address", params)
	case owner.Match == MatchOtherEVMNetwork:
		d.Category = recovery.CategoryWrongNetworkEVM
		params["issued_for"] = owner.Entry.Network
		d.explain("wrong_network_evm", params)
	case owner.Match == MatchPubKeyHash:
		d.Category = recovery.CategoryCrossChainUTXO
		params["issued_for"] = owner.Entry.Network
		d.add("pubkey_hash", d.Deposit.PubKeyHash)
		d.explain("cross_chain_utxo", params)
	case owner.Entry.Memo != "" && !sameMemo(f.Tx.Memo, owner.Entry.Memo):
		d.Category = recovery.CategoryMissingOrWrongMemo
		d.add("memo", fmt.Sprintf("transaction memo %q; the shared address needs a user's memo", f.Tx.Memo))
		d.explain("missing_or_wrong_memo", params)
	default:
		return false
	}
	return true
}

// byWhatMoved decides from what moved and how: unlisted_token,
// contract_deposit, below_minimum, or else a regular deposit.
func (d *Diagnosis) byWhatMoved(tf *TransferFacts, params map[string]string) {
	t := tf.Transfer
	switch {
	case !tf.Listed:
		d.Category = recovery.CategoryUnlistedToken
		params["token"] = t.Token
		d.explain("unlisted_token", params)
	case t.Kind == recovery.KindInternal:
		d.Category = recovery.CategoryContractDeposit
		d.add("internal_call", fmt.Sprintf("value arrived by internal call %d from %s", t.Index, t.From))
		d.explain("contract_deposit", params)
	case tf.Minimum != nil && t.Amount.Cmp(tf.Minimum) < 0:
		d.Category = recovery.CategoryBelowMinimum
		params["minimum"] = tf.Minimum.String()
		d.add("minimum", fmt.Sprintf("%s is below the minimum deposit of %s", t.Amount, tf.Minimum))
		d.explain("below_minimum", params)
	default:
		d.Category = CategoryRegularDeposit
		d.explain("regular_deposit", params)
	}
}

// pick chooses the transfer the case is about and its owner: the one to
// the address the user quoted when the exchange issued it, else the first
// transfer that reaches any issued address. On a memo network's shared
// address the entry whose memo the transaction carries wins, then the
// claimant's own entry.
func pick(f Facts) (*TransferFacts, *Owner) {
	var best *TransferFacts
	var bestOwner *Owner
	bestScore := -1
	for i := range f.Transfers {
		tf := &f.Transfers[i]
		for j := range tf.Owners {
			o := &tf.Owners[j]
			score := 0
			if chains.SameAddress(f.Network.Family, tf.Transfer.To, f.ClaimedAddress) || strings.EqualFold(o.Entry.Address, strings.TrimSpace(f.ClaimedAddress)) {
				score += 4
			}
			if o.Entry.Memo != "" && sameMemo(f.Tx.Memo, o.Entry.Memo) {
				score += 2
			}
			if o.Entry.UserID == f.UserID {
				score++
			}
			if score > bestScore {
				best, bestOwner, bestScore = tf, o, score
			}
		}
	}
	return best, bestOwner
}

func sameMemo(txMemo, entryMemo string) bool {
	return strings.TrimSpace(txMemo) != "" && strings.TrimSpace(txMemo) == strings.TrimSpace(entryMemo)
}

func describeTransfers(ts []TransferFacts) string {
	if len(ts) == 0 {
		return "none: the transaction moved no value to any address"
	}
	var parts []string
	for _, t := range ts {
		parts = append(parts, fmt.Sprintf("%s %s %s to %s", t.Transfer.Kind, t.Transfer.Amount, t.Asset, t.Transfer.To))
	}
	return strings.Join(parts, "; ")
}

func (d *Diagnosis) add(fact, value string) {
	d.Evidence = append(d.Evidence, Evidence{Fact: fact, Value: value})
}

func (d *Diagnosis) explain(code string, params map[string]string) {
	d.Explanation = Message{Code: "diagnosis." + code, Params: params}
}
