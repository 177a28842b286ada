#!/usr/bin/python3
"""A foreign client of procwire's mq: transport, written without procwire.

Python's ctypes reaches mq_open/mq_send/mq_receive in libc; Debian's
python3-msgpack packs the frames. It follows the transport's contract
(packages/transports/src/mq/index.ts): announce an id on the server's control socket, create a reply queue /<name>.<id>, and send chunk messages
[chunk byte][16-byte id][frame] to /<name>. It sends a malformed frame, then a
good request, and prints the decoded reply as JSON.

usage: mq_client.py /name /path/of/the/control.sock
"""
import ctypes
import ctypes.util
import json
import os
import secrets
import socket
import sys

import msgpack

CHUNK_LAST = 1
WHOLE_FRAMES = 2
O_RDONLY, O_WRONLY, O_CREAT, O_EXCL = os.O_RDONLY, os.O_WRONLY, os.O_CREAT, os.O_EXCL

libc = ctypes.CDLL(ctypes.util.find_library('c'), use_errno=True)
libc.mq_open.restype = ctypes.c_int
libc.mq_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.c_void_p]
libc.mq_send.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint]
libc.mq_receive.restype = ctypes.c_ssize_t
libc.mq_receive.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p]


def check(result, what):
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f'{what}: {os.strerror(err)}')
    return result


def main():
    name = sys.argv[1]
    client_id = secrets.token_bytes(16)
    reply_name = f'{name}.{client_id.hex()}'.encode()
    control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    control.connect(sys.argv[2])
    reply = check(libc.mq_open(reply_name, O_RDONLY | O_CREAT | O_EXCL, 0o600, None), 'mq_open reply')
    server = check(libc.mq_open(name.encode(), O_WRONLY, 0, None), 'mq_open server')
    control.sendall(f'PWMQ/1 {client_id.hex()}\n'.encode())
    assert control.recv(3) == b'OK\n'
    libc.mq_unlink(reply_name)

    def send(frame):
        message = bytes([CHUNK_LAST]) + client_id + frame
        check(libc.mq_send(server, message, len(message), 0), 'mq_send')

    send(b'\xc1')  # reserved byte: rejected and counted, the connection lives on
    send(msgpack.packb([0, 1, 'calc.add', [{'a': 40, 'b': 2}]]))
    send(msgpack.packb([0, 2, 'calc.add', [{'a': 'forty', 'b': 2}]]))
    send(msgpack.packb([0, 3, 'calc.stats', []]))
    buffer = ctypes.create_string_buffer(65536)
    replies = []
    while len(replies) < 3:
        length = check(libc.mq_receive(reply, buffer, len(buffer), None), 'mq_receive')
        data = buffer.raw[:length]
        # 1: one whole frame (or the last chunk of one); 2: whole frames back to back.
        assert data[0] in (CHUNK_LAST, WHOLE_FRAMES), 'replies here are small: never split'
        unpacker = msgpack.Unpacker(raw=False)
        unpacker.feed(data[1:])
        replies.extend(unpacker)
    for message in replies:
        print(json.dumps(message), flush=True)
    control.close()


main()
