package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// column is one figure of the table: how to get it from a sample, how to print it, and whether
// its ratio to std is shown (higher is better for rates, lower for latencies; allocations and
// idle CPU get none, std's being 0).
type column struct {
	head  string
	get   func(sample) float64
	form  string
	ratio bool
}

var columns = []column{
	{"UDP dgram/s", rate("udp"), "%.0f", true},
	{"UDP srv ns/dgram", serverCost("udp"), "%.0f", true},
	{"UDP p50 µs", p50("udp-rtt"), "%.1f", true},
	{"UDP p99 µs", p99("udp-rtt"), "%.1f", true},
	{"1200B recv dgram/s", rate("udp-recv"), "%.0f", true},
	{"1200B recv srv ns/dgram", serverCost("udp-recv"), "%.0f", true},
	{"1200B burst dgram/s", rate("udp-burst"), "%.0f", true},
	{"Unix small MB/s", mbps("unix"), "%.0f", true},
	{"Unix bulk MB/s", mbps("unix-bulk"), "%.0f", true},
	{"Unix p50 µs", p50("unix-rtt"), "%.1f", true},
	{"Unix p99 µs", p99("unix-rtt"), "%.1f", true},
	{"TLS bulk MB/s", mbps("tls-bulk"), "%.0f", true},
	{"TLS p50 µs", p50("tls-rtt"), "%.1f", true},
	{"TLS p99 µs", p99("tls-rtt"), "%.1f", true},
	{"allocs/dgram", func(s sample) float64 {
		if s.udpServer.Impl == cRef {
			return math.NaN() // C's allocations are not counted
		}
		return s.udpServer.AllocsPerD
	}, "%.2f", false},
	{"idle CPU %", func(s sample) float64 { return 100 * s.idle }, "%.1f", false},
}

// figure is f of phase ph, or NaN where the implementation does not serve that phase (gnet has no
// TLS, the C reference serves UDP echo only), which the table shows as "—".
func figure(ph string, f func(phase) float64) func(sample) float64 {
	return func(s sample) float64 {
		p, ok := s.phases[ph]
		if !ok {
			return math.NaN()
		}
		return f(p)
	}
}

func rate(ph string) func(sample) float64 { return figure(ph, phase.perSecond) }

// serverCost is the server's CPU time per message of phase ph, in nanoseconds: what the server
// spends on each, whether or not the generator is what limits the rate.
func serverCost(ph string) func(sample) float64 {
	return figure(ph, func(p phase) float64 { return p.Server * 1e9 / p.perSecond() })
}
func mbps(ph string) func(sample) float64 { return figure(ph, phase.mbPerSecond) }
func p50(ph string) func(sample) float64 {
	return figure(ph, func(p phase) float64 { return float64(p.P50) / 1e3 })
}
func p99(ph string) func(sample) float64 {
	return figure(ph, func(p phase) float64 { return float64(p.P99) / 1e3 })
}

// busyPhases are the phases whose generator load the table's footer shows.
var busyPhases = []string{"udp", "udp-recv", "udp-burst", "unix", "unix-bulk", "tls-bulk"}

// table is the medians of every implementation's rounds, in the order of c.impls.
type table struct {
	rows   []string
	cells  [][]float64 // [row][column]
	lo, hi [][]float64 // the lowest and highest round of each cell
	std    []float64
	busy   map[string]float64 // the highest median generator load of each busy phase
	rounds int
}

func median(xs []float64) float64 {
	if slices.ContainsFunc(xs, math.IsNaN) {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (c *config) table(res map[string][]sample) table {
	t := table{busy: make(map[string]float64), rounds: c.rounds}
	for _, im := range c.impls {
		samples := res[im.name]
		row := make([]float64, len(columns))
		lo, hi := make([]float64, len(columns)), make([]float64, len(columns))
		for j, col := range columns {
			var xs []float64
			for _, s := range samples {
				xs = append(xs, col.get(s))
			}
			row[j], lo[j], hi[j] = median(xs), slices.Min(xs), slices.Max(xs)
		}
		t.lo, t.hi = append(t.lo, lo), append(t.hi, hi)
		for _, ph := range busyPhases {
			var xs []float64
			for _, s := range samples {
				if p, ok := s.phases[ph]; ok {
					xs = append(xs, p.Busy)
				}
			}
			if len(xs) > 0 {
				t.busy[ph] = max(t.busy[ph], median(xs))
			}
		}
		t.rows = append(t.rows, im.name)
		t.cells = append(t.cells, row)
		if im.name == "std" {
			t.std = row
		}
	}
	return t
}

// cell is a figure and, for ratio columns, its ratio to std's.
func (t table) cell(i, j int) string {
	col := columns[j]
	if math.IsNaN(t.cells[i][j]) {
		return "—"
	}
	s := fmt.Sprintf(col.form, t.cells[i][j])
	if col.ratio && t.std[j] > 0 {
		s += fmt.Sprintf(" (%.2fx)", t.cells[i][j]/t.std[j])
	}
	return s
}

func (t table) text() string {
	var b strings.Builder
	w := make([]int, len(columns)+1)
	w[0] = len("impl")
	for _, r := range t.rows {
		w[0] = max(w[0], len(r))
	}
	for j, col := range columns {
		w[j+1] = len([]rune(col.head))
		for i := range t.rows {
			w[j+1] = max(w[j+1], len([]rune(t.cell(i, j))))
		}
	}
	pad := func(s string, n int) string { return strings.Repeat(" ", n-len([]rune(s))) + s }
	fmt.Fprintf(&b, "%-*s", w[0], "impl")
	for j, col := range columns {
		b.WriteString("  " + pad(col.head, w[j+1]))
	}
	b.WriteString("\n")
	for i, r := range t.rows {
		fmt.Fprintf(&b, "%-*s", w[0], r)
		for j := range columns {
			b.WriteString("  " + pad(t.cell(i, j), w[j+1]))
		}
		b.WriteString("\n")
	}
	b.WriteString(t.footer())
	return b.String()
}

func (t table) footer() string {
	return fmt.Sprintf("Medians of %d rounds; (x) = ratio to std (for latencies, lower is better). "+
		"Load generator busy (highest median): udp %.0f%%, 1200B recv %.0f%%, 1200B burst %.0f%%, unix %.0f%%, bulk %.0f%%, TLS bulk %.0f%% of a core. "+
		"—: not served (gnet has no TLS; %s, the C reference, serves UDP echo only).\n",
		t.rounds, 100*t.busy["udp"], 100*t.busy["udp-recv"], 100*t.busy["udp-burst"], 100*t.busy["unix"], 100*t.busy["unix-bulk"], 100*t.busy["tls-bulk"], cRef)
}

func (t table) markdown() string { return t.mdTable(t.cell) }

// spread is the markdown table of each figure's lowest and highest round.
func (t table) spread() string {
	return t.mdTable(func(i, j int) string {
		form := columns[j].form
		if math.IsNaN(t.lo[i][j]) {
			return "—"
		}
		return fmt.Sprintf(form, t.lo[i][j]) + "–" + fmt.Sprintf(form, t.hi[i][j])
	})
}

// mdTable is a markdown table with a row per implementation and a column per figure.
func (t table) mdTable(cell func(i, j int) string) string {
	var b strings.Builder
	b.WriteString("| impl |")
	for _, col := range columns {
		b.WriteString(" " + col.head + " |")
	}
	b.WriteString("\n|---|")
	for range columns {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	for i, r := range t.rows {
		b.WriteString("| " + r + " |")
		for j := range columns {
			b.WriteString(" " + cell(i, j) + " |")
		}
		b.WriteString("\n")
	}
	return b.String()
}
