"""The class and id words the extraction rules read, as data: what an element's class or id says it holds."""

from __future__ import annotations

import re

from lxml.html import HtmlElement

#: class or id of the element that holds an article's body in common CMSs and themes.
BODY_CLASS_RE = re.compile(
    r"(?:^|[\s_-])(?:article|post|entry|story|news|blog|single|node|field|rich)[_-]{0,2}"
    r"(?:body|content|text|inner|entry)(?:$|[\s_-])|(?:^|\s)(?:articlebody|article_body|storytext|entrytext)(?:$|\s)",
    re.IGNORECASE,
)
#: class or id words of page furniture: comment threads, share bars, cookie and newsletter prompts, teaser lists.
BOILERPLATE_RE = re.compile(
    r"(?:^|[\s_-])(?:comments?|comment-?(?:list|area|section|form|respond)|respond|disqus|replies|"
    r"share|sharing|shariff|social|socials|sociable|addthis|"
    r"cookies?|consent|gdpr|newsletter|subscribe|subscription|"
    r"related|recommended|recommendations?|more-?stories|also-?read|further-?reading|"
    r"breadcrumbs?|pagination|pager|sidebar|banner|advert|advertisement|ad|ad-?slot|sponsor|"
    r"popup|modal|overlay|toolbar|tags|tag-?list|tagcloud|categories|author-?box|about-?author|byline|"
    r"authors?|author-?(?:bio|info|description|details|profile)|bio|biography|"
    r"buy-?box|disclosure|post-?meta(?:data)?|entry-?meta|entry-?footer|post-?footer|article-?footer|"
    r"outbrain|taboola|most-?popular|more-?on|ratings?|timestamp|user-?info|"
    r"copyright|credits?|skip-?link|jump-?link|menu|navbar|navigation|nav|footer|masthead)(?:$|[\s_-])|"
    r"(?:^|\s)widgets?(?:$|\s)",  # a sidebar's "widget", not the page builder's "elementor-widget-wrap"
    re.IGNORECASE,
)
#: class words of an image's caption (its credit, its one-line description): furniture when short.
CAPTION_RE = re.compile(r"(?:^|[\s_-])(?:captions?|wp-caption-text|bildunterschrift)(?:$|[\s_-])", re.IGNORECASE)
#: class words of the article itself, which win over any boilerplate word beside them.
ARTICLE_CLASS_RE = re.compile(r"(?:^|\s)(?:entry|hentry|article|post|story)(?:$|\s)|" + BODY_CLASS_RE.pattern,
                              re.IGNORECASE)
#: class words of a standfirst that themes set apart from the article's body: ``lead``, ``article-intro``,
#: ``c-page-intro__copy``, ``article-excerpt``, ``standfirst``.
LEAD_CLASS_RE = re.compile(r"(?:^|[\s_-])(?:lead|leader|lede|leadtext|intro|introduction|excerpt|standfirst|abstract|"
                           r"dek|deck|summary|teaser|subline|sub-?title)(?:$|[\s_-])", re.IGNORECASE)
#: class or id of the heading (or its parent) that names the site, not the page: the logo line.
SITE_HEADING_RE = re.compile(r"site-?(?:title|name|logo|branding)|\blogo|brand|blog-?(?:title|name)|masthead",
                             re.IGNORECASE)
#: Where the names are those of commenters, not of the author.
COMMENTS_RE = re.compile(r"comment|respond|repl(?:y|ies)|discussion|disqus", re.IGNORECASE)


def class_and_id(element: HtmlElement) -> str:
    """The element's class and id, one string for these patterns to search."""
    return f"{element.get('class', '')} {element.get('id', '')}"
