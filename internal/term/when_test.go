package term

import (
	"testing"
	"time"
)

func TestWhen(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		at   time.Time
		want string
	}{
		{now, "2026-11-22T10:00:00Z (just now)"},
		{now.Add(12 * time.Second), "2026-11-22T10:00:12Z (in 12s)"},
		{now.Add(-4*time.Minute - 30*time.Second), "2026-11-22T09:55:30Z (4m30s ago)"},
		{now.Add(3*time.Hour + 5*time.Minute), "2026-11-22T13:05:00Z (in 3h5m)"},
		{now.Add(51 * time.Hour), "2026-11-24T13:00:00Z (in 2d3h)"},
		{now.Add(time.Hour).In(time.FixedZone("X", 3600)), "2026-11-22T11:00:00Z (in 1h)"},
	}
	for _, tt := range tests {
		if got := When(tt.at, now); got != tt.want {
			t.Errorf("When(%v) = %q, want %q", tt.at, got, tt.want)
		}
	}
}
