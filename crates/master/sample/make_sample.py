#!/usr/bin/env python3
"""Regenerate the sample master from the official SSK files in ../shared (run from this directory:
`python3 make_sample.py /path/to/shared`). It copies, byte for byte, the rows of the codes listed in
codes.txt (real codes, real points and prices) into small files in the official format
(Shift_JIS, every field quoted, CRLF). Lines starting with # are comments."""
import sys, os

shared = sys.argv[1] if len(sys.argv) > 1 else '../../../../shared'
ssk = os.path.join(shared, 'data', 'ssk')
codes = {}
for line in open('codes.txt', encoding='utf-8'):
    line = line.split('#', 1)[0].strip()
    if line:
        kind, code = line.split()[:2]
        codes.setdefault(kind, set()).add(code)

def key(kind, fields):
    if kind == 'c':
        return fields[22]
    return fields[2]

SOURCES = [
    ('s', 's_ALL20240201.csv', 's_SAMPLE20240201.csv'),
    ('s', 's_ALL20240531.csv', 's_SAMPLE20240531.csv'),
    ('y', 'y_ALL20240531.csv', 'y_SAMPLE20240531.csv'),
    ('t', 't_ALL20240315.csv', 't_SAMPLE20240315.csv'),
    ('c', 'c_ALL20240531.csv', 'c_SAMPLE20240531.csv'),
    ('b', 'b_20240601.txt', 'b_SAMPLE20240601.txt'),
    ('z', 'z_20250601.txt', 'z_SAMPLE20250601.txt'),
]
for kind, src, dst in SOURCES:
    want = codes.get(kind, set())
    out = []
    with open(os.path.join(ssk, src), 'rb') as f:
        for raw in f.read().split(b'\r\n'):
            if not raw:
                continue
            fields = [x.strip('"') for x in raw.decode('cp932').split('","')]
            if key(kind, fields) in want:
                out.append(raw)
    with open(dst, 'wb') as f:
        f.write(b''.join(r + b'\r\n' for r in out))
    print(dst, len(out), 'rows')
