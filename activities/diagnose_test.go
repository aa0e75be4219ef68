package activities

import (
	"context"
	"math/big"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/misdeposit/recovery"
	"github.com/misdeposit/recovery/addressbook"
	"github.com/misdeposit/recovery/chains"
	"github.com/misdeposit/recovery/devchain/evmnode"
	"github.com/misdeposit/recovery/devchain/harness"
	"github.com/misdeposit/recovery/diagnosis"
	"github.com/misdeposit/recovery/fees"
	"github.com/misdeposit/recovery/policy"
	"github.com/misdeposit/recovery/workflows"
)

func TestMain(m *testing.M) { harness.Main(m) }

// world is the exchange of a test: the harness's chains, an address book
// holding the deposit addresses of the fixtures' users, and the engine's
// activities over them.
type world struct {
	h    *harness.Harness
	book *addressbook.Store
	acts *Activities
}

func newWorld(t *testing.T, reg *chains.Registry) *world {
	t.Helper()
	h := harness.Shared(t)
	if reg == nil {
		reg = h.Registry()
	}
	ctx := context.Background()
	book, err := addressbook.Open(ctx, filepath.Join(t.TempDir(), "book.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { book.Close() })
	var entries []addressbook.Entry
	for _, f := range h.Fixtures().All() {
		if f.UserID == "" || f.To == "" {
			continue
		}
		entries = append(entries, addressbook.Entry{Network: f.AddressNetwork, Address: f.To, UserID: f.UserID, PubKeyHash: f.PubKeyHash})
	}
	if err := book.Upsert(ctx, entries, time.Now(), "test"); err != nil {
		t.Fatal(err)
	}
	acts := &Activities{Registry: reg, Scanner: chains.NewScanner(reg, h.Lookups()), AddressBook: book, Prices: fees.DevPrices()}
	return &world{h: h, book: book, acts: acts}
}

// appeal runs what the workflow runs for a user's appeal of f: the look-up,
// then the diagnosis.
func (w *world) appeal(t *testing.T, f harness.Fixture) *workflows.DiagnoseResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	look, err := w.acts.LookupDeposit(ctx, workflows.LookupRequest{Network: f.AddressNetwork, TxHash: f.TxHash, ToAddress: f.To})
	if err != nil {
		t.Fatalf("look-up of %s: %v", f.Name, err)
	}
	if !look.Found {
		return &workflows.DiagnoseResult{Diagnosis: diagnosis.Classify(diagnosis.Facts{Scanned: look.Scanned})}
	}
	res, err := w.acts.Diagnose(ctx, workflows.DiagnoseRequest{
		Tx: look.Tx, ClaimedNetwork: f.AddressNetwork, ToAddress: f.To, UserID: f.UserID, Now: time.Now(),
	})
	if err != nil {
		t.Fatalf("diagnose %s: %v", f.Name, err)
	}
	return res
}

func category(t *testing.T, res *workflows.DiagnoseResult, want string) {
	t.Helper()
	if got := res.Diagnosis.Category; got != want {
		t.Fatalf("category %s, want %s; evidence %+v", got, want, res.Diagnosis.Evidence)
	}
	if res.Diagnosis.Explanation.Code != "diagnosis."+want {
		t.Errorf("explanation %q, want diagnosis.%s", res.Diagnosis.Explanation.Code, want)
	}
	if len(res.Diagnosis.Evidence) == 0 {
		t.Error("no evidence for staff")
	}
}

// Every category the harness's chains can produce, from real transactions
// and the address book, with the policy's decision where one is made.
func TestDiagnosisOfTheHarnessFixtures(t *testing.T) {
	w := newWorld(t, nil)
	f := w.h.Fixtures()
	cases := []struct {
		fixture  harness.Fixture
		category string
		action   policy.Action // "" when no decision is made
	}{
		{f.Native, diagnosis.CategoryRegularDeposit, ""},
		{f.UnlistedToken, recovery.CategoryUnlistedToken, policy.Park}, // no price for a fresh token
		{f.WrongNetwork, recovery.CategoryWrongNetworkEVM, policy.Direct},
		{f.CrossChain, recovery.CategoryCrossChainUTXO, policy.Direct},
		{f.Failed, recovery.CategoryFailedTx, policy.Reject},
		{f.Pending, recovery.CategoryPending, policy.Park},
		{f.FewConfirmations, recovery.CategoryPending, policy.Park},
		{f.ReorgedUTXO, recovery.CategoryPending, policy.Park},
		{f.NotFound, recovery.CategoryNotFound, ""},
	}
	for _, c := range cases {
		t.Run(c.fixture.Name, func(t *testing.T) {
			res := w.appeal(t, c.fixture)
			category(t, res, c.category)
			switch {
			case c.action == "" && res.Decision != nil && c.category != recovery.CategoryNotFound:
				t.Errorf("decision %+v for a regular deposit", res.Decision)
			case c.action != "" && res.Decision == nil:
				t.Fatalf("no decision, want %s", c.action)
			case c.action != "" && res.Decision.Action != c.action:
				t.Errorf("decision %s (reasons %v), want %s", res.Decision.Action, res.Decision.Reasons, c.action)
			}
			if res.Decision != nil && res.Decision.PolicyVersion != policy.Default().Version {
				t.Errorf("decision under policy %q, want %q", res.Decision.PolicyVersion, policy.Default().Version)
			}
		})
	}
}

// The deposit that pays the user's address also tells who owns it and
// what it is worth.
func TestDiagnosisNamesOwnerAndValue(t *testing.T) {
	w := newWorld(t, nil)
	fx := w.h.Fixtures().WrongNetwork
	res := w.appeal(t, fx)
	d := res.Diagnosis
	if d.Owner == nil || d.Owner.Entry.UserID != fx.UserID || d.Owner.Entry.Network != "eth" || d.Owner.Match != diagnosis.MatchOtherEVMNetwork {
		t.Fatalf("owner %+v, want %s's eth address matched on another EVM network", d.Owner, fx.UserID)
	}
	if d.Deposit == nil || d.Deposit.Amount.Cmp(fx.Amount) != 0 || d.Asset != "BNB" {
		t.Fatalf("deposit %+v asset %s, want %s BNB", d.Deposit, d.Asset, fx.Amount)
	}
	if res.USD != "300.00" || res.PriceSource == "" {
		t.Errorf("value %q from %q, want 300.00 USD (0.5 BNB at 600) with its source", res.USD, res.PriceSource)
	}
	if d.Explanation.Params["issued_for"] != "eth" || d.Explanation.Params["network"] != "bsc" {
		t.Errorf("explanation params %v", d.Explanation.Params)
	}
}

func TestDiagnosisFromTheExchangesRecords(t *testing.T) {
	ctx := context.Background()
	t.Run("already credited", func(t *testing.T) {
		w := newWorld(t, nil)
		fx := w.h.Fixtures().Native
		hex64, _ := chains.ParseTxHash(fx.TxHash)
		if err := w.book.RecordCredit(ctx, addressbook.Credit{Network: "eth", TxHash: hex64, Index: "v", UserID: fx.UserID, Amount: fx.Amount.String(), CreditedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		res := w.appeal(t, fx)
		category(t, res, recovery.CategoryAlreadyCredited)
		if res.Decision.Action != policy.Reject {
			t.Errorf("decision %s, want reject", res.Decision.Action)
		}
	})
	t.Run("retired address", func(t *testing.T) {
		w := newWorld(t, nil)
		fx := w.h.Fixtures().Native
		if err := w.book.Upsert(ctx, []addressbook.Entry{{Network: "eth", Address: fx.To, UserID: fx.UserID, Status: addressbook.Retired}}, time.Now(), "test"); err != nil {
			t.Fatal(err)
		}
		category(t, w.appeal(t, fx), recovery.CategoryRetiredAddress)
	})
	t.Run("not our address", func(t *testing.T) {
		w := newWorld(t, nil)
		fx := w.h.Fixtures().Native
		fx.To, fx.UserID = "0x000000000000000000000000000000000000dEaD", "mallory"
		w.acts.AddressBook = emptyBook(t)
		res := w.appeal(t, fx)
		category(t, res, recovery.CategoryNotOurAddress)
		if res.Decision.Action != policy.Reject {
			t.Errorf("decision %s, want reject", res.Decision.Action)
		}
	})
	t.Run("below minimum", func(t *testing.T) {
		h := harness.Shared(t)
		nets := h.Registry().Networks()
		for i := range nets {
			if nets[i].ID == "eth" {
				nets[i].MinDeposit = "2" // ETH; the fixture sends 1.25
			}
		}
		reg, err := chains.NewRegistry(nets)
		if err != nil {
			t.Fatal(err)
		}
		w := newWorld(t, reg)
		res := w.appeal(t, w.h.Fixtures().Native)
		category(t, res, recovery.CategoryBelowMinimum)
		if res.Diagnosis.Explanation.Params["minimum"] != "2000000000000000000" {
			t.Errorf("minimum %q, want 2 ETH in wei", res.Diagnosis.Explanation.Params["minimum"])
		}
	})
	t.Run("unsupported network", func(t *testing.T) {
		w := newWorld(t, nil)
		p, err := policy.Parse(policy.DefaultDocument(), policy.FormatYAML)
		if err != nil {
			t.Fatal(err)
		}
		delete(p.Networks, "bsc")
		w.acts.Policies = FixedPolicy{Doc: p}
		res := w.appeal(t, w.h.Fixtures().WrongNetwork)
		category(t, res, recovery.CategoryUnsupportedNetwork)
		if res.Decision.Action != policy.Park {
			t.Errorf("decision %s, want park", res.Decision.Action)
		}
	})
}

// Value that reached the user's address through a contract's internal call
// is a contract deposit, found by tracing the transaction.
func TestDiagnosisOfAContractDeposit(t *testing.T) {
	w := newWorld(t, nil)
	h := w.h
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	native := h.Fixtures().Native
	ec, err := ethclient.DialContext(ctx, h.EVM("eth").URL())
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	forwarder, err := evmnode.DeployForwarder(ctx, ec, h.EVMSender())
	if err != nil {
		t.Fatal(err)
	}
	hash, err := evmnode.SendViaContract(ctx, ec, h.EVMSender(), forwarder, common.HexToAddress(native.To), big.NewInt(3_000_000_000_000_000))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.EVM("eth").Mine(ctx, int(h.Network("eth").Confirmations)); err != nil {
		t.Fatal(err)
	}
	fx := native
	fx.Name, fx.TxHash = "contract deposit", hash.Hex()
	res := w.appeal(t, fx)
	category(t, res, recovery.CategoryContractDeposit)
	if d := res.Diagnosis.Deposit; d == nil || d.Kind != recovery.KindInternal {
		t.Errorf("deposit %+v, want the internal transfer", d)
	}
}

func emptyBook(t *testing.T) *addressbook.Store {
	t.Helper()
	book, err := addressbook.Open(context.Background(), filepath.Join(t.TempDir(), "empty.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { book.Close() })
	return book
}

// FixedPolicy is a PolicySource that answers one policy, for the tests.
type FixedPolicy struct {
	Doc *policy.Policy
}

// Policy implements PolicySource.
func (f FixedPolicy) Policy(context.Context, int64) (*policy.Policy, int64, error) {
	return f.Doc, 0, nil
}
