"""What readq's exit codes mean, in one place."""

SUCCESS = 0
UNAVAILABLE = 1  # readq itself cannot work: Redis or Elasticsearch unreachable, or another error
PARTIAL = 2  # some URLs were refused, failed or were skipped; or a lookup found nothing
USAGE = 64  # the command line itself is wrong (sysexits EX_USAGE), kept apart from PARTIAL
INTERRUPTED = 130
