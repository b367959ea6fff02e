package config

import (
	"fmt"
	"strconv"
	"strings"
)

// DefaultHeatmapMinCount is PINGAN_HEATMAP_MIN_COUNT when it is not set.
const DefaultHeatmapMinCount = 3

// MaxHeatmapMinCount bounds PINGAN_HEATMAP_MIN_COUNT: above it a city's map
// would show next to nothing.
const MaxHeatmapMinCount = 1000

// loadHeatmap reads PINGAN_HEATMAP_MIN_COUNT: the fewest cases a heat-map
// cell may show (SPEC §11.2). At least 2, so that no case is ever a cell of
// its own.
func (c *Config) loadHeatmap(getenv func(string) string) error {
	c.HeatmapMinCount = DefaultHeatmapMinCount
	v := strings.TrimSpace(getenv("PINGAN_HEATMAP_MIN_COUNT"))
	if v == "" {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 2 || n > MaxHeatmapMinCount || v != strconv.Itoa(n) {
		return fmt.Errorf("PINGAN_HEATMAP_MIN_COUNT: %q is not a whole number from 2 to %d (e.g. 3)", v, MaxHeatmapMinCount)
	}
	c.HeatmapMinCount = n
	return nil
}
