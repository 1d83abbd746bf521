package term

import (
	"fmt"
	"time"
)

// Stamp is an absolute time for output that scripts may read: RFC 3339 in
// UTC, the same wherever sesame runs.
func Stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Relative says when t is from now for people: "in 4m", "12s ago", "just
// now".
func Relative(t, now time.Time) string {
	d := t.Sub(now)
	switch {
	case d.Abs() < time.Second:
		return "just now"
	case d > 0:
		return "in " + Short(d)
	default:
		return Short(-d) + " ago"
	}
}

// Short rounds d to its two largest units: 12s, 4m, 4m30s, 3h5m, 2d3h.
func Short(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	days, hours, mins, secs := s/86400, s/3600%24, s/60%60, s%60
	two := func(a int64, au string, b int64, bu string) string {
		if b == 0 {
			return fmt.Sprintf("%d%s", a, au)
		}
		return fmt.Sprintf("%d%s%d%s", a, au, b, bu)
	}
	switch {
	case days > 0:
		return two(days, "d", hours, "h")
	case hours > 0:
		return two(hours, "h", mins, "m")
	case mins > 0:
		return two(mins, "m", secs, "s")
	}
	return fmt.Sprintf("%ds", secs)
}

// When is an absolute time followed by the relative one, "2026-11-22T10:00:00Z
// (in 4m)": exact for scripts, readable for people.
func When(t, now time.Time) string {
	return Stamp(t) + " (" + Relative(t, now) + ")"
}
