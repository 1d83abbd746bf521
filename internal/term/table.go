package term

import (
	"io"
	"text/tabwriter"
)

// Table aligns columns separated by tabs in what is written to it, for
// human output: status, profiles, introspection. Call Flush at the end.
// Cells that come from a provider must be Clean first: a tab or line
// break inside one would move the columns.
func Table(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
}
