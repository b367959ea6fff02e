package config

import "testing"

func TestHeatmapMinCount(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil || c.HeatmapMinCount != 3 {
		t.Fatalf("default: %v, %v", c, err)
	}
	for v, want := range map[string]int{" 2 ": 2, "10": 10, "1000": 1000} {
		c, err = Load(env(map[string]string{"PINGAN_HEATMAP_MIN_COUNT": v}))
		if err != nil || c.HeatmapMinCount != want {
			t.Fatalf("%q: %+v, %v", v, c, err)
		}
	}
	for _, bad := range []string{"1", "0", "-3", "1001", "3.0", "03", "+3", "three"} {
		_, err := Load(env(map[string]string{"PINGAN_HEATMAP_MIN_COUNT": bad}))
		want := `PINGAN_HEATMAP_MIN_COUNT: "` + bad + `" is not a whole number from 2 to 1000 (e.g. 3)`
		if err == nil || err.Error() != want {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
