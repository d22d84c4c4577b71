package udp_test

import "github.com/aioloop/aioloop/udp"

// raceOptions: every other creation racing Shutdown or Loop.Close asks for everything Linux adds
// (information, the error queue, buffers, offload required), so that those set-up paths race too.
func raceOptions(k int) udp.Options {
	if k%2 == 0 {
		return udp.Options{LocalAddr: "127.0.0.1:0"}
	}
	return udp.Options{LocalAddr: "127.0.0.1:0", ReceiveInfo: udp.InfoDestination | udp.InfoTOS | udp.InfoTTL | udp.InfoTime,
		ICMPErrors: true, ReceiveBuffer: 1 << 16, DontFragment: true, GRO: udp.OffloadOn, GSO: udp.OffloadOn}
}
