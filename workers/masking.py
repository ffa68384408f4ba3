"""One way to show text that may hold a secret: service URLs, refused URLs, error messages, log lines.

Every ``user:password@`` of a URL becomes ``***@``, and the value of a query parameter that names a secret
(``?password=``, ``token``, ``api_key``...) becomes ``***``. Everything readq prints or logs passes through
:func:`mask_secrets`; worker log handlers through :class:`MaskingFilter`.
"""

from __future__ import annotations

import logging
import re

MASK = "***"
# "scheme://" anywhere, or a scheme-relative "//" at the start of the text or after a space, quote or bracket.
_USERINFO = re.compile(r"((?:\b[a-zA-Z][\w+.-]*:|(?<![^\s'\"(<\[]))//)[^\s/?#@]*@")
_SECRET_PARAMS = re.compile(r"(?i)([?&;](?:password|passwd|pwd|pass|secret|token|api_?key|access_key)=)[^\s&#;]*")


def mask_secrets(text: str) -> str:
    """``text`` with every URL's user info and every secret-named query value masked.

    >>> mask_secrets("Redis at redis://:hunter2@10.0.0.5:6379/0 is unreachable")
    'Redis at redis://***@10.0.0.5:6379/0 is unreachable'
    """
    return _SECRET_PARAMS.sub(rf"\1{MASK}", _USERINFO.sub(rf"\1{MASK}@", text))


class MaskingFilter(logging.Filter):
    """Masks each record's message (arguments included) before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


MASKING_FILTER = MaskingFilter()
