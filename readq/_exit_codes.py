"""What readq's exit codes mean, in one place (the README's table; tests/integration/test_exit_codes.py checks
every command against it)."""

SUCCESS = 0
UNAVAILABLE = 1  # readq cannot work (Redis or Elasticsearch unreachable), a worker check failed, or another error
PARTIAL = 2  # some URLs were refused or failed, some inputs failed; or what was asked for does not exist
USAGE = 64  # the command line itself is wrong (sysexits EX_USAGE), kept apart from PARTIAL
INTERRUPTED = 130  # Ctrl-C, or a confirmation declined
