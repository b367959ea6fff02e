package warning

// Stand-in for ears.go while it is written elsewhere; removed at merge.

type Method string

const (
	C1      Method = "C1"
	C2      Method = "C2"
	C3      Method = "C3"
	Poisson Method = "poisson"
)

type Params struct {
	Method   Method
	Alpha    float64
	MinSigma float64
	MinCount float64
	Baseline int
}

type Point struct {
	T         int      `json:"t"`
	Y         float64  `json:"y"`
	Mean      float64  `json:"mean"`
	SD        float64  `json:"sd"`
	Upper     *float64 `json:"upper"`
	Statistic *float64 `json:"statistic"`
	P         *float64 `json:"p"`
	Alarm     bool     `json:"alarm"`
}

type Config struct {
	Primary Params
	C3      Params
	Poisson Params
	RedP    float64
	RedRun  int
}

func DefaultConfig() Config { return Config{} }

type Assessment struct {
	Alarm    bool
	Methods  []Method
	Primary  Point
	Poisson  Point
	C3       Point
	Severity Severity
}

func First(p Params) int { return 0 }

func Assess(y []float64, t int, c Config) (Assessment, bool) { return Assessment{}, false }
