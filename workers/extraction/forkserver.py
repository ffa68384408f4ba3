"""What the extraction processes' fork server preloads (:mod:`workers.extraction.pool`): the extractor's modules and
what extraction loads on first use, so that every process forked from it starts warm."""

from config.settings import get_settings
from workers.extraction.extractor import Extractor
from workers.extraction.pool import warm_up

warm_up(Extractor.from_settings(get_settings()))
