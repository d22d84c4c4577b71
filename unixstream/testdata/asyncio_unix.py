"""asyncio's create_unix_server and create_unix_connection, as a peer for aioloop's tests.

    python3 asyncio_unix.py server PATH         # prints "listening", echoes one connection, exits
    python3 asyncio_unix.py client PATH NBYTES  # sends NBYTES, half-closes, checks the echo by SHA-256
"""
import asyncio
import hashlib
import os
import sys


class Echo(asyncio.Protocol):
    def __init__(self, done):
        self.done = done

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)

    def eof_received(self):
        return None  # close, after the buffered echo is written

    def connection_lost(self, exc):
        if not self.done.done():
            self.done.set_result(exc)


class Client(asyncio.Protocol):
    def __init__(self, nbytes, done):
        self.nbytes, self.done = nbytes, done
        self.sent, self.got = hashlib.sha256(), hashlib.sha256()
        self.received = 0

    def connection_made(self, transport):
        left = self.nbytes
        while left:
            chunk = os.urandom(min(left, 65536))
            self.sent.update(chunk)
            transport.write(chunk)
            left -= len(chunk)
        transport.write_eof()

    def data_received(self, data):
        self.got.update(data)
        self.received += len(data)

    def connection_lost(self, exc):
        self.done.set_result(exc)


async def server(path):
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    srv = await loop.create_unix_server(lambda: Echo(done), path)
    print('listening', flush=True)
    exc = await asyncio.wait_for(done, 60)
    srv.close()
    await srv.wait_closed()
    if exc is not None:
        raise exc


async def client(path, nbytes):
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    _, proto = await loop.create_unix_connection(lambda: Client(nbytes, done), path)
    exc = await asyncio.wait_for(done, 60)
    if exc is not None:
        raise exc
    ok = proto.received == nbytes and proto.sent.digest() == proto.got.digest()
    print('echoed', proto.received, 'of', nbytes, 'checksum', 'ok' if ok else 'MISMATCH', flush=True)
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    if sys.argv[1] == 'server':
        asyncio.run(server(sys.argv[2]))
    else:
        asyncio.run(client(sys.argv[2], int(sys.argv[3])))
