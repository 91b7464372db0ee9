"""The child process a solve runs in when it must be killable (varisat, proofs):
``python -m partrec._worker worker`` reads one request on standard input and streams
its answers on standard output (partrec's worker protocol). See the manual,
docs/python.md, for the package itself."""

import sys

from partrec import _native

if __name__ == "__main__":
    if sys.argv[1:] != ["worker"]:
        sys.exit("usage: python -m partrec._worker worker (started by partrec itself)")
    sys.exit(_native.worker_main())
