"""Sends one GSO run with Python's socket module: ten 1,200-byte datagrams and a 500-byte tail in
one sendmsg with UDP_SEGMENT (103 on Linux; Python 3.11 does not name it), then waits a moment so
that the receiver reads it before the test's loop stops.  gso.py HOST PORT"""
import socket
import struct
import sys
import time

UDP_SEGMENT = getattr(socket, "UDP_SEGMENT", 103)

data = b"".join(bytes([ord("a") + i]) * 1200 for i in range(10)) + b"z" * 500
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendmsg([data], [(socket.SOL_UDP, UDP_SEGMENT, struct.pack("=H", 1200))], 0, (sys.argv[1], int(sys.argv[2])))
time.sleep(0.2)
