package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

// rssWatch follows a process's resident memory over one export.
type rssWatch struct {
	pid      int
	before   int64 // kB
	hwmReset bool  // VmHWM was reset at the start, so it is the export's peak
	done     chan struct{}
	wg       sync.WaitGroup
	once     sync.Once
	sampled  int64 // highest VmRSS seen, kB
	// what stop found
	peak, after int64
	from        string
}

// watchRSS reads the process's VmRSS, resets its VmHWM (writing 5 to
// clear_refs, allowed for one's own processes on Linux ≥ 4.0) and samples
// VmRSS every 20 ms until stop.
func watchRSS(pid int) (*rssWatch, error) {
	st, err := procStatus(pid)
	if err != nil {
		return nil, err
	}
	w := &rssWatch{pid: pid, before: st["VmRSS"], sampled: st["VmRSS"], done: make(chan struct{})}
	w.hwmReset = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) == nil
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-w.done:
				return
			case <-t.C:
				if st, err := procStatus(pid); err == nil {
					w.sampled = max(w.sampled, st["VmRSS"])
				}
			}
		}
	}()
	return w, nil
}

// stop ends the sampling and returns the RSS before, the peak and the RSS
// now, in kB, and where the peak comes from. Later calls return the same.
func (w *rssWatch) stop() (before, peak, after int64, from string) {
	w.once.Do(func() {
		close(w.done)
		w.wg.Wait()
		w.peak, w.from = w.sampled, "sampled every 20 ms"
		if st, err := procStatus(w.pid); err == nil {
			w.after = st["VmRSS"]
			if w.hwmReset {
				w.peak, w.from = max(w.peak, st["VmHWM"]), "VmHWM"
			}
		}
	})
	return w.before, w.peak, w.after, w.from
}

// procStatus reads the kB figures of /proc/PID/status (VmRSS, VmHWM …).
func procStatus(pid int) (map[string]int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	return parseStatus(b), nil
}

func parseStatus(b []byte) map[string]int64 {
	out := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) == 2 && string(f[1]) == "kB" {
			if n, err := strconv.ParseInt(string(f[0]), 10, 64); err == nil {
				out[string(name)] = n
			}
		}
	}
	return out
}
