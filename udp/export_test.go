package udp

// Staging is how many replies the loop stages during a received batch before it flushes them
// mid-batch, for tests that must overfill it.
const Staging = sendBatch

// Budget is how many datagrams (GRO segments) one readiness event delivers at most.
const Budget = recvBudget
