// Package testfd makes the raw file descriptors that aioloop's tests poll: real kernel objects,
// closed when the test ends, so that the leak check at the end of each suite stays meaningful.
// Unix only: elsewhere the package is empty.
package testfd
