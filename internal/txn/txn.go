// Package txn declares the one transaction boundary that services and the
// HTTP layer share. It holds no domain types and no driver: internal/store
// implements it (store.DB), and whoever calls InTx owns the transaction.
package txn

import "context"

// Transactor runs functions in one database transaction and runs code after
// a transaction commits. Implemented by store.DB.
type Transactor interface {
	// InTx runs fn in one transaction: every store call made with the
	// context fn receives joins it, and the transaction commits when fn
	// returns nil and rolls back otherwise. Inside a transaction already,
	// InTx joins it, so the outermost caller owns the commit.
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	// AfterCommit runs fn once the context's outermost transaction has
	// committed (never if it rolls back); at once outside a transaction.
	AfterCommit(ctx context.Context, fn func())
}
