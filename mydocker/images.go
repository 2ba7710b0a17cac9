//chapter:images

package main

import (
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mydocker/mydocker/mydocker/internal/image"
)

func newImagesCommand(global *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:                   "images",
		Short:                 "List the images in the store",
		Example:               "  mydocker images",
		Args:                  cobra.NoArgs,
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			// Listing makes nothing: a root without a store has no images.
			store := image.OpenExisting(global.root)
			images, err := store.List()
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(os.Stdout, 0, 8, 3, ' ', 0)
			fmt.Fprintln(w, "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE")
			for _, img := range images {
				names := img.Names
				if len(names) == 0 {
					names = []string{""}
				}
				for _, name := range names {
					repository, tag := "<none>", "<none>"
					if name != "" {
						repository, tag = image.SplitName(name)
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", repository, tag, img.ShortID(),
						humanAgo(img.Created()), humanSize(store.Size(img)))
				}
			}
			return w.Flush()
		},
	}
}

// humanAgo says how long ago t was, as Docker does: "3 hours ago".
func humanAgo(t time.Time) string {
	if t.IsZero() {
		return "N/A"
	}
	d := time.Since(t)
	units := []struct {
		size time.Duration
		name string
	}{{365 * 24 * time.Hour, "year"}, {30 * 24 * time.Hour, "month"}, {7 * 24 * time.Hour, "week"},
		{24 * time.Hour, "day"}, {time.Hour, "hour"}, {time.Minute, "minute"}, {time.Second, "second"}}
	for _, u := range units {
		if n := int(d / u.size); n >= 1 {
			if n == 1 {
				return fmt.Sprintf("1 %s ago", u.name)
			}
			return fmt.Sprintf("%d %ss ago", n, u.name)
		}
	}
	return "Less than a second ago"
}

// humanSize prints bytes in decimal units, as docker images does: 4.26MB.
func humanSize(n int64) string {
	units := []string{"B", "kB", "MB", "GB", "TB"}
	size := float64(n)
	i := 0
	for size >= 1000 && i < len(units)-1 {
		size /= 1000
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%dB", n)
	}
	return fmt.Sprintf("%.3g%s", size, units[i])
}
