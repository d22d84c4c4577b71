"""Per-datagram information through Python's socket module: recvmsg and sendmsg with IP_PKTINFO
and IP_TOS ancillary data. The peer of aioloop's udp information tests (Linux). Python 3.11 does
not name IP_PKTINFO; 8 is its Linux value.

  pktinfo.py server             bind 0.0.0.0:0, print "listening PORT", answer one datagram from
                                the address it was sent to, with its TOS, saying what it saw
  pktinfo.py client HOST PORT   send "ping" with TOS 0x2a to HOST:PORT, print what comes back
"""
import socket
import struct
import sys

IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)
ANC = socket.CMSG_SPACE(12) + socket.CMSG_SPACE(4) + 64


def info(anc):
    dst, tos = None, None
    for level, typ, data in anc:
        if level == socket.IPPROTO_IP and typ == IP_PKTINFO:
            _ifindex, _spec, addr = struct.unpack("=i4s4s", data[:12])
            dst = socket.inet_ntoa(addr)
        elif level == socket.IPPROTO_IP and typ == socket.IP_TOS:
            tos = data[0]
    return dst, tos


def receiver():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_RECVTOS, 1)
    s.settimeout(10)
    return s


def server():
    s = receiver()
    s.bind(("0.0.0.0", 0))
    print("listening", s.getsockname()[1], flush=True)
    data, anc, _flags, addr = s.recvmsg(2048, ANC)
    dst, tos = info(anc)
    reply = b"re: %s dst=%s tos=%d" % (data, dst.encode(), tos)
    pktinfo = struct.pack("=i4s4s", 0, socket.inet_aton(dst), bytes(4))  # ipi_spec_dst: the source
    s.sendmsg([reply], [(socket.IPPROTO_IP, IP_PKTINFO, pktinfo),
                        (socket.IPPROTO_IP, socket.IP_TOS, struct.pack("=i", tos))], 0, addr)


def client(host, port):
    s = receiver()
    s.sendmsg([b"ping"], [(socket.IPPROTO_IP, socket.IP_TOS, struct.pack("=i", 0x2a))], 0, (host, port))
    data, anc, _flags, addr = s.recvmsg(2048, ANC)
    dst, tos = info(anc)
    print("reply %s from %s to %s tos %d" % (data.decode(), addr[0], dst, tos), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server()
    else:
        client(sys.argv[2], int(sys.argv[3]))
