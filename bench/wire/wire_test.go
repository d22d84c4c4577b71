package wire

import "testing"

func TestRequestsRoundTrip(t *testing.T) {
	if k, _, _ := Parse(QueryRequest()); k != Query {
		t.Fatalf("query parsed as %v", k)
	}
	b, err := BurstRequest(300, 1200)
	if err != nil {
		t.Fatal(err)
	}
	if k, n, size := Parse(b); k != Burst || n != 300 || size != 1200 {
		t.Fatalf("burst parsed as %v %d %d", k, n, size)
	}
	var c [8]byte
	if v, ok := ParseCount(Count(&c, 1<<40+7)); !ok || v != 1<<40+7 {
		t.Fatalf("count %d %v", v, ok)
	}
	for _, sink := range [][]byte{nil, {'Q', 0}, {'B', 1, 0, 0, 0}, {'B', 1, 0, 0xff, 0xff}, make([]byte, 1200)} {
		if k, _, _ := Parse(sink); k != Sink {
			t.Fatalf("%v parsed as %v", sink, k)
		}
	}
	for _, bad := range [][2]int{{0, 1}, {70000, 1}, {1, 0}, {1, MaxSize + 1}} {
		if _, err := BurstRequest(bad[0], bad[1]); err == nil {
			t.Fatalf("BurstRequest%v: no error", bad)
		}
	}
	if len(Payload(1200)) != 1200 || cap(Payload(1200)) != 1200 {
		t.Fatal("Payload's length or capacity")
	}
}
