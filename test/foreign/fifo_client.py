#!/usr/bin/python3
"""A foreign client of procwire's fifo: transport, written without procwire.

It follows the transport's contract (packages/transports/src/fifo/index.ts): make
the pair <path>.<id>.c2s / .s2c (0600), write one request line to the
well-known FIFO, then speak msgpack-rpc over the pair. It sends a malformed
frame on a connection of its own (the server drops that connection), then a
good request on a new one, and prints the decoded replies as JSON.

usage: fifo_client.py /path/of/fifo
"""
import json
import os
import secrets
import sys
import time

import msgpack


def connect(path):
    client_id = secrets.token_hex(16)
    c2s, s2c = f'{path}.{client_id}.c2s', f'{path}.{client_id}.s2c'
    os.mkfifo(c2s, 0o600)
    os.mkfifo(s2c, 0o600)
    read_fd = os.open(s2c, os.O_RDONLY | os.O_NONBLOCK)
    request = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    os.write(request, f'PWFIFO/1 {client_id}\n'.encode())
    os.close(request)
    deadline = time.time() + 5
    while True:
        try:
            write_fd = os.open(c2s, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.005)
    os.unlink(c2s)
    os.unlink(s2c)
    os.set_blocking(read_fd, True)
    os.set_blocking(write_fd, True)
    return read_fd, write_fd


def read_replies(read_fd, count):
    unpacker = msgpack.Unpacker(raw=False)
    replies = []
    while len(replies) < count:
        chunk = os.read(read_fd, 65536)
        if not chunk:
            replies.append('EOF')
            break
        unpacker.feed(chunk)
        replies.extend(unpacker)
    return replies


def main():
    path = sys.argv[1]
    read_fd, write_fd = connect(path)
    os.write(write_fd, b'\xc1')  # a byte stream cannot resync: the server hangs up on this one
    print(json.dumps(read_replies(read_fd, 1)), flush=True)
    read_fd, write_fd = connect(path)
    os.write(write_fd, msgpack.packb([0, 1, 'calc.add', [{'a': 40, 'b': 2}]]))
    os.write(write_fd, msgpack.packb([0, 2, 'calc.add', [{'a': 'forty', 'b': 2}]]))
    print(json.dumps(read_replies(read_fd, 2)), flush=True)


main()
