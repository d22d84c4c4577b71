package udp_test

import "github.com/aioloop/aioloop/udp"

// raceOptions: the plain options (what Linux adds is refused here).
func raceOptions(int) udp.Options { return udp.Options{LocalAddr: "127.0.0.1:0"} }
