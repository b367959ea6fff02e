package config

import "testing"

func TestWarningOverdueCount(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil || c.WarningOverdueCount != DefaultWarningOverdueCount {
		t.Fatalf("default: %v, %v", c, err)
	}
	c, err = Load(env(map[string]string{"PINGAN_WARNING_OVERDUE_COUNT": " 12 "}))
	if err != nil || c.WarningOverdueCount != 12 {
		t.Fatalf("12: %+v, %v", c, err)
	}
	for _, bad := range []string{"0", "-1", "1e3", "0x10", "05", "+5", "1_000", "100001", "five"} {
		_, err := Load(env(map[string]string{"PINGAN_WARNING_OVERDUE_COUNT": bad}))
		want := `PINGAN_WARNING_OVERDUE_COUNT: "` + bad + `" is not a whole number from 1 to 100000 (e.g. 5)`
		if err == nil || err.Error() != want {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
