"""python3 scripts/docs_inventory.py SOURCE.txt OUT.inv: write a Sphinx (intersphinx)
inventory, version 2, from the plain-text lines of SOURCE.txt."""
import sys
import zlib


def main(source, out):
    with open(source) as handle:
        lines = [line.strip() for line in handle if line.strip() and not line.startswith('#')]
    header = ('# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n'
              '# The remainder of this file is compressed using zlib.\n')
    with open(out, 'wb') as handle:
        handle.write(header.encode())
        handle.write(zlib.compress(('\n'.join(lines) + '\n').encode()))


if __name__ == '__main__':
    main(*sys.argv[1:])
