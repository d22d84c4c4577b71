"""asyncio's create_unix_server and create_unix_connection with ssl=, as a TLS peer for aioloop's
tests. DIR holds ca.pem, server.pem and server.key.

    python3 asyncio_tls.py server DIR PATH         # prints "listening", echoes one connection, exits
    python3 asyncio_tls.py client DIR PATH NBYTES  # sends NBYTES, checks the echo by SHA-256, closes
"""
import asyncio
import hashlib
import os
import ssl
import sys


class Echo(asyncio.Protocol):
    def __init__(self, done):
        self.done = done

    def connection_made(self, transport):
        self.transport = transport
        obj = transport.get_extra_info('ssl_object')
        print('server', obj.version(), flush=True)

    def data_received(self, data):
        self.transport.write(data)

    def eof_received(self):
        return None  # the peer's close_notify: close, answering with ours

    def connection_lost(self, exc):
        if not self.done.done():
            self.done.set_result(exc)


class Client(asyncio.Protocol):
    def __init__(self, nbytes, done):
        self.nbytes, self.done = nbytes, done
        self.sent, self.got = hashlib.sha256(), hashlib.sha256()
        self.received = 0

    def connection_made(self, transport):
        self.transport = transport
        left = self.nbytes
        while left:
            chunk = os.urandom(min(left, 65536))
            self.sent.update(chunk)
            transport.write(chunk)
            left -= len(chunk)

    def data_received(self, data):
        self.got.update(data)
        self.received += len(data)
        if self.received == self.nbytes:
            self.transport.close()  # close_notify, then waits for the server's

    def connection_lost(self, exc):
        self.done.set_result(exc)


async def server(d, path):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(os.path.join(d, 'server.pem'), os.path.join(d, 'server.key'))
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    srv = await loop.create_unix_server(lambda: Echo(done), path, ssl=ctx)
    print('listening', flush=True)
    exc = await asyncio.wait_for(done, 60)
    srv.close()
    await srv.wait_closed()
    if exc is not None:
        raise exc


async def client(d, path, nbytes):
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=os.path.join(d, 'ca.pem'))
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    tr, proto = await loop.create_unix_connection(lambda: Client(nbytes, done), path,
                                                  ssl=ctx, server_hostname='aioloop.test')
    version = tr.get_extra_info('ssl_object').version()
    exc = await asyncio.wait_for(done, 60)
    if exc is not None:
        raise exc
    ok = proto.received == nbytes and proto.sent.digest() == proto.got.digest()
    print(version, 'echoed', proto.received, 'of', nbytes, 'checksum', 'ok' if ok else 'MISMATCH', flush=True)
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    if sys.argv[1] == 'server':
        asyncio.run(server(sys.argv[2], sys.argv[3]))
    else:
        asyncio.run(client(sys.argv[2], sys.argv[3], int(sys.argv[4])))
