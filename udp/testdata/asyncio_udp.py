"""The asyncio documentation's UDP echo server and client, as a peer for aioloop's tests.

    python3 asyncio_udp.py server HOST PORT COUNT   # prints "listening HOST PORT", echoes COUNT datagrams
    python3 asyncio_udp.py client HOST PORT MESSAGE # sends MESSAGE, prints the reply, closes
"""
import asyncio
import sys


class EchoServerProtocol:
    def __init__(self, count, done):
        self.count = count
        self.done = done

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        message = data.decode()
        print('Received %r from %s' % (message, addr), flush=True)
        print('Send %r to %s' % (message, addr), flush=True)
        self.transport.sendto(data, addr)
        self.count -= 1
        if self.count == 0:
            self.done.set_result(True)

    # Not in the docs' example, whose loop never closes the transport.
    def error_received(self, exc):
        print('Error received:', exc, flush=True)

    def connection_lost(self, exc):
        pass


class EchoClientProtocol:
    def __init__(self, message, on_con_lost):
        self.message = message
        self.on_con_lost = on_con_lost
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        print('Send:', self.message, flush=True)
        self.transport.sendto(self.message.encode())

    def datagram_received(self, data, addr):
        print("Received:", data.decode(), flush=True)
        print("Close the socket", flush=True)
        self.transport.close()

    def error_received(self, exc):
        print('Error received:', exc, flush=True)

    def connection_lost(self, exc):
        print("Connection closed", flush=True)
        self.on_con_lost.set_result(True)


async def server(host, port, count):
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: EchoServerProtocol(count, done), local_addr=(host, port))
    sockname = transport.get_extra_info('sockname')
    print('listening', sockname[0], sockname[1], flush=True)
    try:
        await asyncio.wait_for(done, 20)
    finally:
        transport.close()


async def client(host, port, message):
    loop = asyncio.get_running_loop()
    on_con_lost = loop.create_future()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: EchoClientProtocol(message, on_con_lost), remote_addr=(host, port))
    try:
        await asyncio.wait_for(on_con_lost, 20)
    finally:
        transport.close()


if __name__ == '__main__':
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == 'server':
        asyncio.run(server(host, port, int(sys.argv[4])))
    else:
        asyncio.run(client(host, port, sys.argv[4]))
