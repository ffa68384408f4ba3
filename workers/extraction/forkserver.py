"""What the extraction processes' fork server preloads (:mod:`workers.extraction.pool`): the extractor's modules and
what extraction loads on first use, so that every process forked from it starts warm. The models are the same
whatever the settings, so none are read here: a fork server cannot fail on a setting."""

from workers.extraction.extractor import Extractor
from workers.extraction.pool import warm_up

warm_up(Extractor(min_text_chars=1))  # no floor: the warm-up page goes through every step
