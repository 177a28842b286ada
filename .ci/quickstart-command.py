#!/usr/bin/env python3
"""Prints command N (1 or 2) of the README's Quick start block, so CI runs exactly what users run."""
import re
import sys
from pathlib import Path

text = Path(__file__).resolve().parent.parent.joinpath('README.md').read_text(encoding='utf-8')
heading = re.search(r'^#+\s*quick\s*-?\s*start.*$', text, re.I | re.M)
block = heading and re.search(r'^```[^\n]*\n(.*?)^```', text[heading.end():], re.S | re.M)
if not block:
    sys.exit('README.md has no Quick start code block')
commands = [line.strip().removeprefix('$ ') for line in block.group(1).splitlines()
            if line.strip() and not line.strip().startswith('#')]
if len(commands) != 2:
    sys.exit(f'README.md Quick start holds {len(commands)} commands, expected 2')
print(commands[int(sys.argv[1]) - 1])
