// Package testfd makes the raw file descriptors that aioloop's tests poll: real kernel objects,
// closed when the test ends, so that the leak check at the end of each suite stays meaningful.
// Socketpair, Socket, Read, Write, Shutdown, Close, Open and Wine exist on Unix and Windows (a TCP
// pair on loopback there, and Open counts handles); PipeAfter is Unix only.
package testfd
